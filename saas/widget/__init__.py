"""The visitor widget's script, served so any website can embed it with one line."""
from flask import Blueprint

bp = Blueprint("widget", __name__)

from . import files, routes  # noqa: E402,F401
