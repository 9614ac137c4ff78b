"""The MLflow pyfunc of a fitted lmforecast forecaster, logged as code ("models from code").

:func:`lmforecast.tracking.log_forecaster` logs this file as the model definition, with the
fitted forecaster as the artifact ``forecaster`` (xz-compressed joblib) and the default
quantile levels in the model config. MLflow runs the file when the model is logged and loaded;
``mlflow.models.set_model`` below hands it the model object, so nothing is pickled with
CloudPickle. Not meant to be imported.

Input of ``predict``: a DataFrame with a ``horizon`` column (periods ahead, first row used) and
an optional ``quantiles`` column (``"0.1,0.5,0.9"``); an int horizon is accepted too.
Output: the tidy forecast (:func:`lmforecast.tracking.forecast_frame`: ``time, region,
occupation, quantile, value``, value in the target's units).
"""

from __future__ import annotations

import mlflow
import pandas as pd


class ForecasterModel(mlflow.pyfunc.PythonModel):
    """Pyfunc around a fitted :class:`lmforecast.models.base.Forecaster`."""

    def load_context(self, context):
        """Read the forecaster artifact and the default quantiles from the model config."""
        from lmforecast.tracking import load_forecaster

        self.forecaster = load_forecaster(context.artifacts["forecaster"])
        self.quantiles = tuple(float(q) for q in (context.model_config or {}).get("quantiles", (0.1, 0.5, 0.9)))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """Forecast ``horizon`` periods at the requested quantiles; return the tidy frame."""
        from lmforecast.tracking import forecast_frame, parse_pyfunc_input

        horizon, quantiles = parse_pyfunc_input(model_input, self.quantiles)
        return forecast_frame(self.forecaster.predict(horizon, quantiles=quantiles))


mlflow.models.set_model(ForecasterModel())
