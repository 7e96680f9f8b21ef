import pytest

from messaging.routing import QUEUE_NAMES, ROUTES, Priority
from pro_platform.celery import app

app.loader.import_default_modules()  # every app's tasks module, as a worker imports them


@pytest.mark.parametrize(("name", "route"), sorted(ROUTES.items()))
def test_routes_name_registered_tasks_and_real_queues(name, route):
    queue, priority = route
    assert name in app.tasks
    assert queue in QUEUE_NAMES
    options = app.amqp.router.route({}, name)
    assert (options["queue"].name, options["priority"]) == (queue, priority)


def test_an_unrouted_task_goes_to_default_at_default_priority():
    options = app.amqp.router.route({}, "somewhere.tasks.unlisted")
    assert (options["queue"].name, options["priority"]) == ("default", Priority.DEFAULT)


def test_an_explicit_priority_wins_over_the_route():
    name = "notifications.tasks.send_order_confirmation"
    options = app.amqp.router.route({"priority": 1}, name)
    assert options["priority"] == 1


def test_transactional_outranks_seller_outranks_informational():
    assert Priority.PAYMENT > Priority.TRANSACTIONAL > Priority.SELLER > Priority.INFORMATIONAL
