"""The pyfunc model definition MLflow stores as code ("models from code"), so the logged model holds no pickle.

MLflow executes this file when the model is logged and loaded; it only names the model class.
"""

import mlflow.models

from mtclin.tracking.pyfunc import MTClinicalModel

mlflow.models.set_model(MTClinicalModel())
