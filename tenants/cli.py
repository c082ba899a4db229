"""``flask tenants create|list|migrate|drop|backup|restore``."""
from pathlib import Path

import click
from flask.cli import AppGroup

from . import backup as backups
from . import provisioning, registry

tenants_cli = AppGroup("tenants", help="Create, list, migrate and drop tenants.")


def _existing(slug: str):
    tenant = registry.find_by_slug(slug)
    if tenant is None:
        raise click.ClickException(f"no tenant '{slug}'")
    return tenant


@tenants_cli.command("create")
@click.argument("slug")
@click.option("--name", default=None, help="Display name (defaults to the slug).")
def create(slug, name):
    """Create a tenant with its own migrated schema (or SQLite file)."""
    provisioning.migrate_registry()
    try:
        tenant = provisioning.create_tenant(slug, name or slug)
    except (registry.InvalidSlug, registry.TenantExists) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"created {tenant.slug} (widget key {tenant.widget_key})")


@tenants_cli.command("list")
def list_tenants():
    for tenant in registry.all_tenants():
        click.echo(f"{tenant.slug}\t{tenant.status}\t{tenant.name}")


@tenants_cli.command("migrate")
def migrate():
    """Upgrade the registry and every tenant schema to the newest revision."""
    for tenant in provisioning.migrate_all():
        click.echo(f"migrated {tenant.slug}")
    click.echo("all tenants are up to date")


@tenants_cli.command("drop")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def drop(slug, yes):
    """Drop a tenant's schema (or file) and its registry row. Irreversible."""
    tenant = _existing(slug)
    if not yes:
        click.confirm(f"Drop tenant '{slug}' and all of its data?", abort=True)
    provisioning.drop_tenant(tenant)
    click.echo(f"dropped {slug}")


@tenants_cli.command("backup")
@click.argument("slug")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
def backup(slug, archive):
    """Write one tenant's rows and uploaded files to ARCHIVE (a .tar.gz)."""
    try:
        backups.backup(_existing(slug), archive)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backed up {slug} to {archive}")


@tenants_cli.command("restore")
@click.argument("slug")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(slug, archive, yes):
    """Replace one tenant's rows and uploaded files with those in ARCHIVE; other tenants are untouched."""
    tenant = _existing(slug)
    if not yes:
        click.confirm(f"Replace all of tenant '{slug}'s data with {archive}?", abort=True)
    try:
        backups.restore(tenant, archive)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"restored {slug} from {archive}")
