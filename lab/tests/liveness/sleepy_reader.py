#!/usr/bin/env python3
"""A healthy but slow client: one thread sends COUNT bytes, another reads the
echo, but only once the sender has been blocked for 300 ms (both directions
full: the client's receive buffer, the server's send and receive buffers, then
the client's send buffer, in that order) and then after sleeping 700 ms more.
For a second the sockets look exactly like a deadlock; the reader's sleep ends
it, and the run completes.
usage: sleepy_reader.py HOST PORT COUNT"""
import socket
import sys
import threading
import time


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sock = socket.create_connection((host, port))
    received = 0
    last_chunk = time.monotonic()
    done = False

    def reader():
        nonlocal received
        # Wait for the sender to be blocked, whatever the machine's load.
        while not done and time.monotonic() - last_chunk < 0.3:
            time.sleep(0.05)
        time.sleep(0.7)
        while True:
            data = sock.recv(65536)
            if not data:
                return
            received += len(data)

    t = threading.Thread(target=reader)
    t.start()
    chunk = b"capitalize this!" * 4096
    sent = 0
    while sent < count:
        sock.sendall(chunk[: count - sent])
        sent += min(len(chunk), count - sent)
        last_chunk = time.monotonic()
    done = True
    sock.shutdown(socket.SHUT_WR)
    t.join()
    print(f"sent {sent} received {received}")
    sys.exit(0 if received == sent else 1)


main()
