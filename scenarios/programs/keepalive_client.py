#!/usr/bin/env python3
# A client that turns TCP keep-alive on (SO_KEEPALIVE: the kernel's timers come
# from the net.ipv4.tcp_keepalive_* sysctls), says one thing, reads the answer and
# then waits for more with no timeout of its own: only keep-alive can tell it that
# the other end is gone.
import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.sendall(b'ping')
    print('The server said', repr(sock.recv(4)), flush=True)
    print('Waiting for more', flush=True)
    data = sock.recv(4)
    print('Then it said', repr(data))


if __name__ == '__main__':
    main()
