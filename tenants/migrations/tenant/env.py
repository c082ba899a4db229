from saas.models import TenantModel
from tenants.migrations.environment import run

run(TenantModel.metadata)
