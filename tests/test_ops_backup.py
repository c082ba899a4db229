"""Operations: ``flask tenants backup`` / ``restore`` bring back exactly one tenant's rows and
files, and never touch another tenant."""
from sqlalchemy import delete, select

from tests.clients import new_client_id


def _chat(app, tenant, visitors: int) -> None:
    from saas.services import conversations, routing
    from saas.services import visitors as visitor_service
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        for n in range(visitors):
            visitor = visitor_service.identify(session, tenant.ref, None)
            conversation, _ = routing.conversation_for_message(session, visitor)
            for line in ("hello", f"visitor {n} here"):
                conversations.post_visitor_message(session, visitor, conversation, client_id=new_client_id(), body=line)
            session.commit()


def _rows(app, tenant) -> dict[str, set]:
    from saas.models import Conversation, Message
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        return {
            "conversations": set(session.execute(select(Conversation.id, Conversation.visitor_id, Conversation.status))),
            "messages": set(session.execute(select(Message.id, Message.conversation_id, Message.seq, Message.body))),
        }


def _delete_conversations(app, tenant, how_many: int) -> None:
    """Delete conversations with everything that refers to them, as a careless script would."""
    from saas.models import Conversation
    from tenants import tenant_context, tenant_session

    with app.app_context(), tenant_context(tenant.ref):
        session = tenant_session()
        doomed = list(session.scalars(select(Conversation.id).order_by(Conversation.id).limit(how_many)))
        for table in reversed(Conversation.metadata.sorted_tables):
            for key in table.foreign_keys:
                if key.column.table is Conversation.__table__:
                    session.execute(delete(table).where(key.parent.in_(doomed)))
        session.execute(delete(Conversation).where(Conversation.id.in_(doomed)))
        session.commit()


def _files_root(app, tenant):
    with app.app_context():
        return app.extensions["switchboard_tenants"].files_root(tenant.ref)


def test_restore_brings_back_exactly_the_deleted_rows_and_files_of_one_tenant(app, make_tenant, tmp_path):
    mine, other = make_tenant(), make_tenant()
    _chat(app, mine, 4)
    _chat(app, other, 2)
    upload = _files_root(app, mine) / "a1b2c3"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"\x89PNG uploaded before the backup")
    before = _rows(app, mine)
    assert len(before["conversations"]) == 4 and len(before["messages"]) == 8

    runner = app.test_cli_runner()
    archive = tmp_path / "mine.tar.gz"
    done = runner.invoke(args=["tenants", "backup", mine.slug, str(archive)])
    assert done.exit_code == 0, done.output
    assert archive.stat().st_size > 0

    _delete_conversations(app, mine, 2)
    upload.unlink()
    (upload.parent / "after-backup").write_bytes(b"uploaded after the backup")
    damaged = _rows(app, mine)
    assert len(damaged["conversations"]) == 2 and len(damaged["messages"]) == 4
    other_before = _rows(app, other)
    _chat(app, other, 1)  # the other tenant keeps working between backup and restore
    other_before_restore = _rows(app, other)
    assert other_before_restore != other_before

    done = runner.invoke(args=["tenants", "restore", mine.slug, str(archive), "--yes"])
    assert done.exit_code == 0, done.output

    after = _rows(app, mine)
    assert after == before
    assert after["messages"] - damaged["messages"] == before["messages"] - damaged["messages"]
    assert upload.read_bytes() == b"\x89PNG uploaded before the backup"
    assert not (upload.parent / "after-backup").exists()
    assert _rows(app, other) == other_before_restore
    _chat(app, mine, 1)  # the restored tenant takes new conversations
    assert len(_rows(app, mine)["conversations"]) == 5


def test_restore_refuses_another_tenants_archive_and_a_file_that_is_no_archive(app, make_tenant, tmp_path):
    mine, other = make_tenant(), make_tenant()
    _chat(app, mine, 1)
    runner = app.test_cli_runner()
    archive = tmp_path / "mine.tar.gz"
    assert runner.invoke(args=["tenants", "backup", mine.slug, str(archive)]).exit_code == 0
    before = _rows(app, other)

    refused = runner.invoke(args=["tenants", "restore", other.slug, str(archive), "--yes"])
    assert refused.exit_code == 1
    assert f"holds tenant '{mine.slug}'" in refused.output

    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_text("not an archive")
    refused = runner.invoke(args=["tenants", "restore", other.slug, str(garbage), "--yes"])
    assert refused.exit_code == 1 and "is not a tenant backup" in refused.output
    assert _rows(app, other) == before

    unknown = runner.invoke(args=["tenants", "backup", "no-such-tenant", str(tmp_path / "x.tar.gz")])
    assert unknown.exit_code == 1 and "no tenant 'no-such-tenant'" in unknown.output
