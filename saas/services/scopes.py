"""Settings kept once for the workspace (no department) and optionally once per department."""
from sqlalchemy import select
from sqlalchemy.orm import Session


def taken(session: Session, row, *same) -> bool:
    """Whether another row of ``row``'s model has the same scope (and ``same`` conditions)."""
    model = type(row)
    query = select(model.id).where(
        model.id != (row.id or 0), *same,
        model.department_id.is_(None) if row.department is None else model.department_id == row.department.id)
    with session.no_autoflush:  # the row being saved is not a duplicate of itself
        return session.scalar(query) is not None
