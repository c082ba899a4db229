from saas.extensions import db
from tenants.migrations.environment import run

run(db.metadata)
