#!/usr/bin/env python3
# A tcp_sixteen-style client in Python, in two versions: with --send-once it
# calls sock.send() a single time and ignores how much was sent (the bug that
# short writes expose); without it, it uses sock.sendall() as it should.
# With --timeout SECONDS it gives every socket call that long (socket.settimeout),
# so a reply that never comes ends in its own error instead of a wait for ever.
import socket
import sys


def recvall(sock, length):
    data = b''
    while len(data) < length:
        more = sock.recv(length - len(data))
        if not more:
            raise EOFError('was expecting %d bytes but only received'
                           ' %d bytes before the socket closed'
                           % (length, len(data)))
        data += more
    return data


def main():
    send_once = '--send-once' in sys.argv
    args = [a for a in sys.argv[1:] if a != '--send-once']
    timeout = None
    if '--timeout' in args:
        at = args.index('--timeout')
        timeout = float(args[at + 1])
        del args[at:at + 2]
    host, port = args[0], int(args[1])
    sock = socket.create_connection((host, port), timeout=timeout)
    message = b'Hi there, server'
    if send_once:
        sent = sock.send(message)
        print('send() moved', sent, 'of', len(message), 'bytes', flush=True)
    else:
        sock.sendall(message)
    reply = recvall(sock, 16)
    print('The server said', repr(reply))
    sock.close()


if __name__ == '__main__':
    main()
