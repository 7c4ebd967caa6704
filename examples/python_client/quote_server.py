#!/usr/bin/python3
# quote_server: the server the Python client talks to (part of the test, not
# under test). Accepts one connection, reads a request line ("QUOTE\n") and
# answers with one line of text. The answer goes out in two send() calls, as a
# server that writes a header and a body would: nothing in TCP promises that
# they arrive in one piece, or in two.
import socket
import sys

ANSWER = b'The network is reliable. Latency is zero. Bandwidth is infinite.\n'


def read_line(conn):
    data = b''
    while not data.endswith(b'\n'):
        more = conn.recv(1024)
        if not more:
            raise EOFError('the request ended after %d bytes' % len(data))
        data += more
    return data


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    listener = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1)
    conn, _ = listener.accept()
    request = read_line(conn)
    if request != b'QUOTE\n':
        print('quote_server: unknown request', repr(request))
        sys.exit(1)
    conn.sendall(ANSWER[:16])
    conn.sendall(ANSWER[16:])
    conn.close()
    print('quote_server: sent %d bytes' % len(ANSWER))


if __name__ == '__main__':
    main()
