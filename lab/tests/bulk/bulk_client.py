"""A bulk client: sends N bytes with sendall() in 1 MiB writes, shuts its
sending side (a FIN), then reads the server's answer until its FIN.
Usage: bulk_client.py HOST PORT N"""
import socket
import sys

host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sock = socket.create_connection((host, port))
chunk = b'x' * (1 << 20)
left = total
while left > 0:
    n = min(left, len(chunk))
    sock.sendall(chunk[:n])
    left -= n
sock.shutdown(socket.SHUT_WR)
answer = b''
while True:
    data = sock.recv(1 << 16)
    if not data:
        break
    answer += data
sock.close()
print('sent', total, 'bytes; the server said', answer[-40:].decode().strip())
print('answer', len(answer), 'bytes')
