"""The same day gives the same alerts, scores and explanations on SQLite and PostgreSQL."""

from bot.demo import run_demo
from bot.services import build_services
from bot.settings import load_settings


def demo_alerts(location: str, embedder) -> tuple[list[tuple], list[str]]:
    services = build_services(load_settings(db_path=location, env={}), embedder=embedder)
    shown: list[str] = []
    report = run_demo(services, shown.append)
    services.store.close()
    return [
        (
            alert.target,
            alert.paper_id,
            [(m.topic, round(m.score, 9), m.reasons) for m in alert.matches],
        )
        for alert in report.alerts + report.over_cap
    ], shown


def test_the_demo_alerts_the_same_on_both_backends(tmp_path, postgresql_url, embedder):
    on_sqlite, shown_sqlite = demo_alerts(str(tmp_path / "demo.db"), embedder)
    on_postgresql, shown_postgresql = demo_alerts(postgresql_url, embedder)
    assert len(on_sqlite) > 10
    assert on_postgresql == on_sqlite
    assert shown_postgresql == shown_sqlite
