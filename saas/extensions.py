"""Extensions are module-level objects bound late by ``create_app`` (the factory pattern)."""
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

# The registry of tenants lives in the shared schema through Flask-SQLAlchemy; each tenant's
# own tables are reached only through ``tenants.tenant_session()``.
db = SQLAlchemy()
socketio = SocketIO()
login_manager = LoginManager()
csrf = CSRFProtect()
