"""``zhiyuan dlq``: see, replay and purge the events the workers gave up on.

Every event handler's queue ``evt-…`` has a dead-letter queue ``evt-….dlq``
(see services/common/deadletter.py). A message lands there after its retries
are spent, at once when it is permanently wrong (a broken rule, a body that
is not JSON), with headers saying queue, event id, type, error and attempts.

    zhiyuan dlq list [--queue Q] [--event-id ID]     counts and messages
    zhiyuan dlq show --event-id ID [--queue Q]       one message: headers, body
    zhiyuan dlq replay [--queue Q] [--event-id ID]   back to the handler's queue
    zhiyuan dlq purge [--queue Q] [--event-id ID] --yes   delete for good

Replaying is safe: consumers are idempotent, an event already applied is
skipped. Each message is published (with publisher confirms) before it is
taken off the DLQ, so an interrupted replay duplicates, never loses.

查看、重新投递和清除后台进程放弃处理的事件（死信）。每个事件处理队列都有对应
的死信队列；重试用尽或事件本身有误时消息进入死信队列。重新投递是安全的：消费
端幂等，已处理的事件会被跳过；消息先确认投递再从死信队列移除，中断时只会重复，
不会丢失。
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from kombu import Connection, Queue

from services.cli.help import command
from services.common import deadletter as dl
from services.common.config import load

Browse = Callable[[Any, dl.Raw], bool]


def _dlqs(pattern: str) -> list[str]:
    """The DLQs of every handler, those whose name contains ``pattern``."""
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from services.catalog import worker_classes
    from services.common.worker import handler_queues

    names = [dl.dlq_name(q.name) for q in handler_queues(worker_classes())]
    return [n for n in names if not pattern or pattern in n]


def _depth(conn: Connection, name: str) -> int:
    channel = conn.channel()
    try:
        got = Queue(name, durable=True)(channel).queue_declare(passive=True)
    except conn.channel_errors:  # never declared: no worker has run yet
        return 0
    finally:
        with suppress(Exception):
            channel.close()
    return int(got.message_count)


@contextmanager
def _browse(conn: Connection, name: str) -> Iterator[Iterator[Any]]:
    """The messages now in the DLQ, fetched unacknowledged: those the caller
    does not ack go back in place when the channel closes."""
    count = _depth(conn, name)
    channel = conn.channel()
    queue = Queue(name, durable=True)(channel)

    def messages() -> Iterator[Any]:
        # At most what was there: a replayed message that fails at once may
        # come back during the walk, and must not be walked again.
        for _ in range(count):
            message = queue.get(no_ack=False, accept=None)
            if message is None:
                return
            yield message

    try:
        yield messages()
    finally:
        channel.close()


def _event_id(raw: dl.Raw) -> str:
    return str(raw.headers.get(dl.EVENT_ID) or raw.message_id or "?")


def _matches(raw: dl.Raw, event_id: str | None) -> bool:
    return not event_id or _event_id(raw) == event_id


def _amqp() -> Connection:
    return Connection(load()["amqp_uri"], connect_timeout=5)


def cmd_list(args: argparse.Namespace) -> int:
    total = 0
    with _amqp() as conn:
        for name in _dlqs(args.queue):
            count = _depth(conn, name)
            if not count:
                continue
            print(f"{name}: {count} message(s) / 条")
            total += count
            shown = 0
            with _browse(conn, name) as messages:
                for message in messages:
                    raw = dl.Raw.of(message)
                    if not _matches(raw, args.event_id):
                        continue
                    if shown == args.limit:
                        print("  … more: use --limit / 更多请加 --limit")
                        break
                    print("  " + _summary(raw))
                    shown += 1
    if not total:
        print("no dead-lettered events / 死信队列为空")
    return 0


def _summary(raw: dl.Raw) -> str:
    h = {**_broker_death(raw.headers), **raw.headers}
    error = " ".join(str(h.get(dl.ERROR, "?")).split())
    if len(error) > 120:
        error = error[:117] + "..."
    return (
        f"{_event_id(raw)}  {h.get(dl.EVENT_TYPE, '?')}  "
        f"attempts={h.get(dl.ATTEMPTS, '?')}  {h.get(dl.KIND, '?')}  "
        f"at={h.get(dl.FAILED_AT, '?')}  error={error}"
    )


def _broker_death(headers: dict[str, Any]) -> dict[str, Any]:
    """What the broker itself says of a message it dead-lettered (a quorum
    queue's delivery limit: the worker died holding it each time), in the
    workers' header names; nothing when a worker put it there."""
    deaths = headers.get("x-death") or []
    if dl.KIND in headers or not deaths or not isinstance(deaths[0], dict):
        return {}
    death = deaths[0]
    return {
        dl.KIND: f"broker:{death.get('reason', '?')}",
        dl.ERROR: f"{death.get('reason', '?')}: dead-lettered by the broker"
        " / 由消息代理转入死信队列",
        dl.FAILED_AT: str(death.get("time", "?")),
    }


def cmd_show(args: argparse.Namespace) -> int:
    found = 0
    with _amqp() as conn:
        for name in _dlqs(args.queue):
            with _browse(conn, name) as messages:
                for message in messages:
                    raw = dl.Raw.of(message)
                    if _matches(raw, args.event_id):
                        found += 1
                        _print_message(name, raw)
    if not found:
        print(
            f"event {args.event_id} is in no DLQ / 死信队列中没有该事件",
            file=sys.stderr,
        )
        return 1
    return 0


def _print_message(dlq: str, raw: dl.Raw) -> None:
    print(f"queue: {dlq}")
    print(f"content-type: {raw.content_type}  encoding: {raw.content_encoding}")
    print("headers:")
    print(json.dumps(raw.headers, ensure_ascii=False, indent=2, default=str))
    print("body:")
    try:
        text = raw.body.decode("utf-8")
    except UnicodeDecodeError:
        print(f"(not UTF-8, {len(raw.body)} bytes) {raw.body!r}")
        return
    try:
        print(json.dumps(json.loads(text), ensure_ascii=False, indent=2))
    except ValueError:
        print(text)


def _walk(args: argparse.Namespace, act: Browse) -> int:
    """Apply ``act`` (which acks what it took) to every matching message."""
    done = 0
    with _amqp() as conn:
        for name in _dlqs(args.queue):
            with _browse(conn, name) as messages:
                for message in messages:
                    raw = dl.Raw.of(message)
                    if _matches(raw, args.event_id) and act(message, raw):
                        done += 1
    return done


def cmd_replay(args: argparse.Namespace) -> int:
    republisher = dl.Republisher(load()["amqp_uri"])

    def replay(message: Any, raw: dl.Raw) -> bool:
        queue = str(
            raw.headers.get(dl.QUEUE)
            or dl.handler_queue_of(message.delivery_info["routing_key"])
        )
        replayed = int(raw.headers.get(dl.REPLAYED) or 0) + 1
        headers = {**dl.clean_headers(raw.headers), dl.REPLAYED: replayed}
        headers.pop(dl.ATTEMPT, None)  # a fresh set of retries
        republisher.publish(raw, exchange="", routing_key=queue, headers=headers)
        message.ack()  # only once the broker has confirmed the copy
        print(f"replayed {_event_id(raw)} → {queue}")
        return True

    try:
        done = _walk(args, replay)
    finally:
        republisher.close()
    print(f"{done} event(s) replayed / 已重新投递 {done} 条事件")
    return 0 if done or not args.event_id else 1


def cmd_purge(args: argparse.Namespace) -> int:
    if not args.yes:
        print(
            "purging deletes the events for good: add --yes "
            "/ 清除后无法恢复，请加 --yes 确认",
            file=sys.stderr,
        )
        return 2

    def purge(message: Any, raw: dl.Raw) -> bool:
        message.ack()
        print(f"purged {_event_id(raw)}")
        return True

    done = _walk(args, purge)
    print(f"{done} event(s) purged / 已清除 {done} 条事件")
    return 0


def add_commands(sub: Any) -> None:
    d = sub.add_parser(
        "dlq",
        help="dead-lettered events: list, show, replay, purge / 死信事件",
        description=__doc__,
        epilog="examples / 示例:\n  zhiyuan dlq list\n"
        "  zhiyuan dlq replay --queue hours",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d_sub = d.add_subparsers(dest="action", required=True)

    def filters(p: argparse.ArgumentParser, *, need_id: bool = False) -> None:
        p.add_argument(
            "--queue",
            default="",
            help="only DLQs whose name contains this (a handler queue, a "
            "service name, an event type) / 按队列名筛选",
        )
        p.add_argument(
            "--event-id",
            required=need_id,
            help="only this event / 仅此事件"
            if not need_id
            else "the event / 事件编号",
        )

    ls = command(
        d_sub, "list",
        "count per DLQ and each message's event, error, attempts / 列出死信",
        en="For every dead-letter queue (or those --queue matches): its "
        "message count, then each message's event id, type, error and "
        "attempts. Nothing is taken off the queue.",
        zh="列出每个死信队列（或名称包含 --queue 的队列）的消息数，以及每条消息的"
        "事件编号、类型、错误和尝试次数。不会从队列中取走消息。",
        examples=["zhiyuan dlq list", "zhiyuan dlq list --queue hours --limit 20"],
    )  # fmt: skip
    filters(ls)
    ls.add_argument(
        "--limit", type=int, default=100,
        help="messages shown per DLQ (default 100) / 每个队列显示的条数",
    )  # fmt: skip
    ls.set_defaults(func=cmd_list)
    sh = command(
        d_sub, "show", "a message's headers and body / 查看一条死信",
        en="Print one dead-lettered message, its headers (queue, event id, "
        "type, error, attempts) and its body. The message stays.",
        zh="显示一条死信消息的消息头（队列、事件编号、类型、错误、尝试次数）和 "
        "内容。消息仍保留在队列中。",
        examples=["zhiyuan dlq show --event-id 7f1d6c1e-0000-4000-8000-00000000"
                  "0001"],
    )  # fmt: skip
    filters(sh, need_id=True)
    sh.set_defaults(func=cmd_show)
    rp = command(
        d_sub, "replay",
        "move messages back to their handler's queue (all, or one event) / "
        "重新投递",
        en="Publish each message (with confirms) to the queue it failed on, "
        "then remove it from the DLQ. Consumers are idempotent: an event "
        "already applied is skipped. Fix the cause first.",
        zh="将每条消息（经发布确认）重新投递到其失败的原队列，再从死信队列移除。"
        "消费端幂等，已处理的事件会被跳过。请先排除失败原因。",
        examples=["zhiyuan dlq replay --queue hours",
                  "zhiyuan dlq replay --event-id 7f1d6c1e-0000-4000-8000-"
                  "000000000001"],
    )  # fmt: skip
    filters(rp)
    rp.set_defaults(func=cmd_replay)
    pg = command(
        d_sub, "purge", "delete messages for good (needs --yes) / 清除死信",
        en="Delete dead-lettered messages for good (all, those --queue "
        "matches, or one event). Refused without --yes.",
        zh="永久删除死信消息（全部、名称包含 --queue 的队列中的，或某一事件）。"
        "必须加 --yes 确认。",
        examples=["zhiyuan dlq purge --queue recycling --yes"],
    )  # fmt: skip
    filters(pg)
    pg.add_argument("--yes", action="store_true", help="confirm / 确认清除")
    pg.set_defaults(func=cmd_purge)
