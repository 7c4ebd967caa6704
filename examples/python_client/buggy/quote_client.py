#!/usr/bin/python3
# quote_client, first version: asks quote_server for a quote and prints it. The
# bug: one recv() taken as "the whole answer". It works on loopback most of the
# time and prints half a quote when the answer comes in pieces.
import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    sock = socket.create_connection((host, port))
    sock.sendall(b'QUOTE\n')
    answer = sock.recv(1024)
    print('quote:', answer.decode().rstrip('\n'))
    sock.close()


if __name__ == '__main__':
    main()
