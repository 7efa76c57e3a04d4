"""A TCP proxy on loopback that can lose one reply: it forwards the next request to the
service, throws away whatever the service answers, and then cuts the connection (RST).
The service has done (and committed) the work; the caller never hears of it."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


class ReplyDroppingProxy:
    def __init__(self, upstream_port: int, *, hold: float = 0.8) -> None:
        self.upstream_port = upstream_port
        self.hold = hold  # how long the service gets to finish before the cut
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._armed = threading.Event()
        self.dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def drop_next_reply(self) -> None:
        self._armed.set()

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            conn = {"dropping": False}
            threading.Thread(target=self._pump, args=(client, upstream, conn, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, conn, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, conn: dict[str, bool], request: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if request and self._armed.is_set() and not conn["dropping"]:
                    self._armed.clear()
                    conn["dropping"] = True
                    threading.Timer(self.hold, self._cut, args=(src, dst)).start()
                if not request and conn["dropping"]:
                    continue  # the reply is lost
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _cut(self, a: socket.socket, b: socket.socket) -> None:
        self.dropped += 1
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)  # wakes the pumps; both ends see the connection end
            with contextlib.suppress(OSError):
                s.close()
