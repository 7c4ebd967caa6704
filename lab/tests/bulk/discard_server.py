"""A discard server: accepts one connection, reads until the client's FIN,
counting the bytes, answers with REPLY_BYTES bytes and a line saying how many it
got, then closes. Usage: discard_server.py HOST PORT [REPLY_BYTES]"""
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
reply_bytes = int(sys.argv[3]) if len(sys.argv) > 3 else 0
family = socket.AF_INET6 if ':' in host else socket.AF_INET
listener = socket.socket(family, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((host, port))
listener.listen(1)
print('Listening at', listener.getsockname())
conn, peer = listener.accept()
got = 0
while True:
    data = conn.recv(1 << 20)
    if not data:
        break
    got += len(data)
conn.sendall(b'r' * reply_bytes + b'got %d bytes\n' % got)
conn.close()
print('got', got, 'bytes')
