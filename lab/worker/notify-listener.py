#!/usr/bin/env python3
# notify-listener.py SOCKET — a fake systemd NOTIFY_SOCKET (AF_UNIX datagram) for tests and the
# start→READY=1 benchmark. Prints one line per datagram: "<CLOCK_MONOTONIC ns> <fields joined by |>".
# Receiving without ancillary space drops systemd-notify's BARRIER=1 fd, which releases it at once.
import os, socket, sys, time
path = sys.argv[1]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("LISTENING", flush=True)
while True:
    data = s.recv(65536)
    print(time.monotonic_ns(), data.decode("utf-8", "replace").replace("\n", "|"), flush=True)
