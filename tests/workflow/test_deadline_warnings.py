"""预警: an overdue rectification is announced once in the inbox of those who are to act on it, by the task a
real Celery worker runs from the schedule; a confirmed hazard is not warned about."""
from __future__ import annotations

import re
from datetime import date, timedelta


from tests.conftest import truncate_registers
from tests.security import factory

from .helpers import client_for, inbox


def test_overdue_hazards_are_announced_once_by_the_worker(worker_app, celery_worker):
    truncate_registers(worker_app)
    svc = worker_app.extensions["safety"]
    with worker_app.app_context():
        home = factory.make_org(svc)
        away = factory.make_org(svc, region="211302")
        enterprise = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        regulator = factory.make_user(worker_app, "regulator", home).username
        inspector = factory.make_user(worker_app, "inspector", home).username
        stranger = factory.make_user(worker_app, "regulator", away).username
        company = factory.make_user(worker_app, "enterprise_user", enterprise_key=enterprise.uscc).username
        overdue = factory.make_row(svc, "hazard", {"enterprise": enterprise, "description": "消防通道堵塞",
                                                   "found_on": date.today() - timedelta(days=30),
                                                   "rectify_by": date.today() - timedelta(days=4)})
        factory.make_row(svc, "hazard", {"enterprise": enterprise, "description": "期限未到",
                                         "rectify_by": date.today() + timedelta(days=4)})
        factory.make_row(svc, "hazard", {"enterprise": enterprise, "description": "早已整改",
                                         "found_on": date.today() - timedelta(days=60),
                                         "rectify_by": date.today() - timedelta(days=40), "state": "rectified"})
        overdue_id = overdue.id

    celery_worker.wait_ready()
    task = worker_app.extensions["celery"].tasks["workflow.deadline_warnings"]
    sent = task.delay().get(timeout=60)
    # pending: the enterprise is to submit, the regulator may review; the inspector acts only once submitted
    assert sent == 2
    assert "已逾期4天（整改期限）：消防通道堵塞" in inbox(client_for(worker_app, company))
    assert "消防通道堵塞" in inbox(client_for(worker_app, regulator))
    assert "消防通道堵塞" not in inbox(client_for(worker_app, inspector))
    assert "消防通道堵塞" not in inbox(client_for(worker_app, stranger))
    assert "早已整改" not in inbox(client_for(worker_app, regulator))

    assert task.delay().get(timeout=60) == 0  # once per cause
    # the message leads to the hazard and is then read
    client = client_for(worker_app, company)
    page = client.get("/workflow/inbox").get_data(as_text=True)
    message_id = re.search(r"/workflow/inbox/(\d+)/open", page).group(1)
    response = client.get(f"/workflow/inbox/{message_id}/open")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/hazard/show/{overdue_id}")
    assert 'class="inbox-message unread"' not in client.get("/workflow/inbox").get_data(as_text=True)
