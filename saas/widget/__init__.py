"""The visitor widget's script, served so any website can embed it with one line."""
from flask import Blueprint

bp = Blueprint("widget", __name__)

from . import chat_page, files, routes, texts  # noqa: E402,F401
