"""The container list's State column: health, exit codes and the user's Stop/Restart in progress."""

from PySide6.QtCore import Qt

from gui.engine import ContainerInfo
from gui.qt.common.table_models import BadgeRole, ContainerTableModel, state_badge, state_text


def c(state: str, status: str, i: int = 1) -> ContainerInfo:
    return ContainerInfo(id=f"{i:064d}", name=f"c{i}", image="img", state=state, status=status, created=0.0)


def test_state_text_and_badge():
    cases = [
        (c("running", "Up 3 minutes"), "running", "running"),
        (c("running", "Up 2 seconds (health: starting)"), "starting", "restarting"),
        (c("running", "Up 3 minutes (healthy)"), "healthy", "running"),
        (c("running", "Up 3 minutes (unhealthy)"), "unhealthy", "unhealthy"),
        (c("exited", "Exited (137) 3 seconds ago"), "exited (137)", "exited"),
        (c("created", "Created"), "created", "created"),
    ]
    assert [(state_text(r), state_badge(r)) for r, _, _ in cases] == [(t, b) for _, t, b in cases]


def test_a_transition_shows_until_it_is_cleared_and_survives_updates(qapp):
    model = ContainerTableModel()
    rec = c("running", "Up 3 minutes")
    model.replace_all([rec])
    changed = []
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), a.column(), b.column())))
    index = model.index(0, ContainerTableModel.STATE)
    model.set_transition(rec.id, "stopping…")
    assert (index.data(), index.data(BadgeRole)) == ("stopping…", "restarting")
    assert changed == [(0, 2, 2)]
    model.upsert([c("running", "Up 4 minutes")])  # the engine's news while it stops
    assert index.data() == "stopping…"
    model.set_transition(rec.id, None)
    model.upsert([c("exited", "Exited (137) 1 second ago")])
    assert (index.data(), index.data(BadgeRole)) == ("exited (137)", "exited")
    model.set_transition(rec.id, None)  # twice: nothing to say
    assert len(changed) == 4
    assert model.headerData(ContainerTableModel.STATE, Qt.Orientation.Horizontal) == "State"
