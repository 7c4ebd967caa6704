#!/usr/bin/env python3
# An event-loop server in the style users bring: asyncio, non-blocking sockets,
# one coroutine per connection. It upper-cases what it reads and writes it back,
# like the book's tcp_deadlock.py server, and relies on the event loop to retry
# writes that the kernel (or the lab) cuts short or answers with EAGAIN.
import asyncio
import sys


async def serve(reader, writer):
    while True:
        data = await reader.read(1024)
        if not data:
            break
        writer.write(data.upper())
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main(host, port):
    server = await asyncio.start_server(serve, host, port)
    print('Listening at', server.sockets[0].getsockname(), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
