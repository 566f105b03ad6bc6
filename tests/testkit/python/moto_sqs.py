"""moto's server, with SQS FIFO queues keeping two promises SQS documents.

moto 5 breaks both, and the pipeline's tests rely on them:

1. Order within a message group. While a message of a group is in flight
   (received, neither deleted nor visible again) no later message of the
   group is delivered, and once it is visible again it comes first. moto
   re-opens a group one message at a time inside a receive, so after a
   batch of two or more unacknowledged messages it delivers the second
   (and the messages behind it) before the first.
2. The five-minute deduplication interval. A message sent with the
   deduplication id of one sent less than five minutes earlier is accepted
   and not delivered, whether or not the earlier one was deleted. moto
   compares only with messages still on the queue.

Standard queues are left to moto. Run as moto's server:
    python3 moto_sqs.py -H 127.0.0.1 -p PORT
"""

import copy
import inspect
import sys

from moto.core.utils import unix_time, unix_time_millis
from moto.server import main
from moto.sqs import models

DEDUPLICATION_MS = models.DEDUPLICATION_TIME_IN_SECONDS * 1000

moto_receive_message = models.SQSBackend.receive_message
moto_add_message = models.Queue.add_message


def receive_message(
    backend,
    queue_name,
    count,
    wait_seconds_timeout,
    visibility_timeout,
    message_attribute_names=None,
):
    queue = backend.get_queue(queue_name)
    if not queue.fifo_queue:
        return moto_receive_message(
            backend,
            queue_name,
            count,
            wait_seconds_timeout,
            visibility_timeout,
            message_attribute_names,
        )
    polling_end = unix_time() + wait_seconds_timeout
    while True:
        result = receive_in_group_order(
            queue, count, visibility_timeout, message_attribute_names or []
        )
        if result or unix_time() >= polling_end:
            return result
        queue.wait_for_messages(1)


def receive_in_group_order(queue, count, visibility_timeout, attribute_names):
    in_flight = {m for m in queue._pending_messages if not m.visible}
    queue._pending_messages.intersection_update(in_flight)
    # A group waits behind its first message that cannot be delivered now.
    held = {m.group_id for m in in_flight}
    redrive = queue.redrive_policy if queue.dead_letter_queue is not None else None
    result = []
    for message in list(queue._messages):
        if len(result) >= count:
            break
        if message.group_id in held:
            continue
        if not message.visible or message.delayed:
            held.add(message.group_id)
            continue
        if redrive and message.approximate_receive_count >= redrive["maxReceiveCount"]:
            queue._messages.remove(message)
            queue.dead_letter_queue.add_message(message)
            continue
        queue._pending_messages.add(message)
        message.mark_received(visibility_timeout=visibility_timeout)
        received = copy.deepcopy(message)
        models._filter_message_attributes(received, attribute_names)
        result.append(received)
    return result


def add_message(queue, message):
    if queue.fifo_queue and message.deduplication_id:
        now = unix_time_millis()
        sent = queue.__dict__.setdefault("sheetsync_deduplication", {})
        for dedup_id, at in list(sent.items()):
            if now - at >= DEDUPLICATION_MS:
                del sent[dedup_id]
        if message.deduplication_id in sent:
            return
        sent[message.deduplication_id] = now
    moto_add_message(queue, message)


def check_moto():
    expected = [
        "self",
        "queue_name",
        "count",
        "wait_seconds_timeout",
        "visibility_timeout",
        "message_attribute_names",
    ]
    found = list(inspect.signature(moto_receive_message).parameters)
    if found != expected:
        sys.exit(f"moto_sqs.py: moto's receive_message takes {found}; update the FIFO fixes")


check_moto()
models.SQSBackend.receive_message = receive_message
models.Queue.add_message = add_message

if __name__ == "__main__":
    sys.exit(main())
