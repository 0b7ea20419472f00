/**
 * Serves a VMM host process's control socket (see control-protocol.ts) for one MachineRunner:
 * serves CONNECT requests on guest ports (the agent's through the runner's relay) and answers STATUS/STOP/KILL.
 */
import { type Server, type Socket, createServer } from "node:net";
import { type HostStatus, parseControlRequest, readLine } from "./control-protocol.js";
import type { MachineRunner } from "./machine-runner.js";

export interface ControlServerOptions {
  runner: MachineRunner;
  status: () => HostStatus;
  /** Called once a STOP or KILL has ended the machine. */
  onStopped?: () => void;
}

export function serveControl(path: string, options: ControlServerOptions): Promise<Server> {
  const server = createServer((socket) => void handle(socket, options));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

async function handle(socket: Socket, { runner, status, onStopped }: ControlServerOptions): Promise<void> {
  socket.on("error", () => socket.destroy());
  try {
    const request = parseControlRequest(await readLine(socket));
    if (typeof request === "string") throw new Error(request);
    switch (request.op) {
      case "CONNECT": {
        const serve = await runner.serve(request.port);
        socket.write("OK\n");
        serve(socket);
        socket.resume();
        return;
      }
      case "STATUS":
        socket.end(`OK ${JSON.stringify(status())}\n`);
        return;
      case "STOP":
        socket.end(`OK ${JSON.stringify(await runner.stop(request.timeoutMs))}\n`);
        onStopped?.();
        return;
      case "KILL":
        socket.end(`OK ${JSON.stringify(await runner.kill())}\n`);
        onStopped?.();
        return;
    }
  } catch (err) {
    socket.end(`ERR ${String((err as Error).message ?? err).replaceAll("\n", " ")}\n`);
  }
}
