#!/usr/bin/env python3
"""A client that bounds its wait for a reply with signal.alarm(1).

With a handler (the default) it raises in the handler and exits with status 3;
with --no-handler the alarm's default action ends the process (SIGALRM).
usage: alarm_client.py HOST PORT [--no-handler]"""
import signal
import socket
import sys


class TimedOut(Exception):
    pass


def on_alarm(signum, frame):
    raise TimedOut()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    if "--no-handler" not in sys.argv:
        signal.signal(signal.SIGALRM, on_alarm)
    sock = socket.create_connection((host, port))
    sock.sendall(b"GET half")  # half of the 16 bytes the server waits for
    signal.alarm(1)
    try:
        sock.recv(16)
    except TimedOut:
        print("no reply within 1 s: giving up", flush=True)
        sys.exit(3)
    print("got a reply")


main()
