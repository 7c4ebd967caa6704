#!/usr/bin/python3
# quote_client: asks quote_server for a quote and prints it. The answer is one
# line; recv() returns whatever part of it has arrived, so the client reads until
# the line's end (the fix of buggy/quote_client.py).
import socket
import sys


def read_line(sock):
    data = b''
    while not data.endswith(b'\n'):
        more = sock.recv(1024)
        if not more:
            raise EOFError('the answer ended after %d bytes, without a line end'
                           % len(data))
        data += more
    return data


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    sock = socket.create_connection((host, port))
    sock.sendall(b'QUOTE\n')
    answer = read_line(sock)
    print('quote:', answer.decode().rstrip('\n'))
    sock.close()


if __name__ == '__main__':
    main()
