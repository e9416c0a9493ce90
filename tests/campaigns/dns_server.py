"""A real DNS server on 127.0.0.1 (UDP) for tests, answering TXT queries from a dict; names
it does not know get NXDOMAIN. Built on dnspython's wire format."""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class LocalDNS:
    def __init__(self, txt: dict[str, list[str]] | None = None, delay: float = 0.0):
        self.txt = {name.rstrip(".").lower(): values for name, values in (txt or {}).items()}
        self.delay = delay
        self.queries: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._sock.getsockname()
        return f"{host}:{port}"

    def __enter__(self) -> LocalDNS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._sock.close()

    def _serve(self) -> None:
        import time

        while not self._stop.is_set():
            try:
                data, client = self._sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            self.queries.append(name)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            values = self.txt.get(name)
            if values is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT:
                quoted = []
                for value in values:
                    chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
                    quoted.append(" ".join('"' + c.replace('"', '\\"') + '"' for c in chunks))
                response.answer.append(
                    dns.rrset.from_text_list(
                        question.name, 300, dns.rdataclass.IN, dns.rdatatype.TXT, quoted
                    )
                )
            if self.delay:
                time.sleep(self.delay)
            try:
                self._sock.sendto(response.to_wire(), client)
            except OSError:
                return
