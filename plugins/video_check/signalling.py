"""The signalling relay of the video call (WebSocket, flask-sock): the browsers do WebRTC, the server only passes
their offers, answers and ICE candidates between the two parties of one application.

A room is the application's id; each side (regulator, enterprise) subscribes to its own channel of the room on a
hub. With Redis (production, tests) the two parties may be served by different gunicorn workers; without Redis
(the embedded default, one process) an in-process hub does the same."""
from __future__ import annotations

import json
import queue
import threading
from typing import Any

OTHER = {"regulator": "enterprise", "enterprise": "regulator"}
#: what a browser may send to the other party; anything else is dropped
RELAYED = {"offer", "answer", "candidate", "recording", "mode", "restart", "hangup", "probe", "items"}
MAX_MESSAGE = 64 * 1024
REFUSED_CLOSE = 4403
PRESENCE_TTL = 6 * 3600


class Subscription:
    def __init__(self, get: Any, close: Any):
        self.get, self.close = get, close


class LocalHub:
    """Rooms in this process (one web process only)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queues: dict[tuple[str, str], list[queue.Queue]] = {}

    def join(self, room: str, side: str) -> Subscription:
        q: queue.Queue = queue.Queue()
        with self.lock:
            self.queues.setdefault((room, side), []).append(q)

        def get(timeout: float) -> dict | None:
            try:
                return q.get(timeout=timeout)
            except queue.Empty:
                return None

        def close() -> None:
            with self.lock:
                members = self.queues.get((room, side), [])
                if q in members:
                    members.remove(q)
                if not members:
                    self.queues.pop((room, side), None)
        return Subscription(get, close)

    def present(self, room: str, side: str) -> bool:
        with self.lock:
            return bool(self.queues.get((room, side)))

    def publish(self, room: str, side: str, message: dict) -> None:
        with self.lock:
            targets = list(self.queues.get((room, side), []))
        for q in targets:
            q.put(message)


class RedisHub:
    """Rooms shared by every worker through Redis pub/sub; presence counted in a hash that expires."""

    def __init__(self, url: str):
        import redis
        self.redis = redis.Redis.from_url(url)

    def join(self, room: str, side: str) -> Subscription:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(f"video_check:{room}:{side}")
        key = f"video_check:{room}:present"
        self.redis.hincrby(key, side, 1)
        self.redis.expire(key, PRESENCE_TTL)

        def get(timeout: float) -> dict | None:
            message = pubsub.get_message(timeout=timeout)
            return json.loads(message["data"]) if message else None

        def close() -> None:
            self.redis.hincrby(key, side, -1)
            pubsub.close()
        return Subscription(get, close)

    def present(self, room: str, side: str) -> bool:
        return int(self.redis.hget(f"video_check:{room}:present", side) or 0) > 0

    def publish(self, room: str, side: str, message: dict) -> None:
        self.redis.publish(f"video_check:{room}:{side}", json.dumps(message))


def make_hub(config: Any) -> LocalHub | RedisHub:
    url = config.get("VIDEO_SIGNAL_REDIS_URL") or ""
    return RedisHub(url) if url.startswith(("redis://", "rediss://", "unix://")) else LocalHub()


def relay(ws: Any, hub: Any, room: str, side: str) -> None:
    """Serve one party until its socket closes: its messages go to the other side, the other side's come back."""
    from simple_websocket import ConnectionClosed

    other = OTHER[side]
    send_lock = threading.Lock()
    stopped = threading.Event()

    def send(message: dict) -> None:
        with send_lock:
            ws.send(json.dumps(message))

    subscription = hub.join(room, side)

    def pump() -> None:
        while not stopped.is_set():
            message = subscription.get(0.5)
            if message is None:
                continue
            try:
                send(message)
            except ConnectionClosed:
                return

    thread = threading.Thread(target=pump, name=f"video-relay-{room}-{side}", daemon=True)
    try:
        # "joined" first; what the other side sends meanwhile waits in the subscription
        send({"type": "joined", "side": side, "peer": hub.present(room, other)})
        thread.start()
        hub.publish(room, other, {"type": "peer-joined", "from": side})
        while True:
            raw = ws.receive()
            if raw is None or len(raw) > MAX_MESSAGE:
                continue
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(message, dict) or message.get("type") not in RELAYED:
                continue
            message["from"] = side
            hub.publish(room, other, message)
    except ConnectionClosed:
        pass
    finally:
        stopped.set()
        hub.publish(room, other, {"type": "peer-left", "from": side})
        if thread.is_alive():
            thread.join(timeout=2)  # the pump leaves its wait (0.5 s) before its subscription is closed
        subscription.close()


def refuse(ws: Any, reason: str) -> None:
    """Tell a browser that is not a party of the room why, then close with 4403."""
    from simple_websocket import ConnectionClosed
    try:
        ws.send(json.dumps({"type": "refused", "reason": reason}))
        ws.close(reason=REFUSED_CLOSE, message="not a party of this verification")
    except ConnectionClosed:
        pass
    # let the browser answer the close before the handler returns: the development server writes its own
    # response bytes after the handler, which a browser still reading frames takes for a broken frame
    reader = getattr(ws, "thread", None)
    if reader is not None:
        reader.join(timeout=2)
