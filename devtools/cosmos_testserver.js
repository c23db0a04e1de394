// The Cosmos DB test server for contract tests and benchmarks (never deployed).
//
// @vercel/cosmosdb-server, in memory, HTTPS with keep-alive, on a loopback port. One gap is
// mended here, in the harness, so that production code keeps Cosmos DB's real semantics:
// reading a missing document crashes the server's handler (HTTP 500); real Cosmos DB answers
// 404 NotFound, and so does this wrapper. Prints {"port": N} once it listens.
"use strict";

const readDocument = require("@vercel/cosmosdb-server/lib/handler/read-document");

const originalRead = readDocument.default;
readDocument.default = (account, req, res, params) => {
  try {
    return originalRead(account, req, res, params);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    res.statusCode = 404;
    return {
      code: "NotFound",
      message: "Entity with the specified id does not exist in the system.",
    };
  }
};

// Required only now, so its route table picks up the mended handler.
const { createHttpsServer } = require("@vercel/cosmosdb-server");

const server = createHttpsServer({ keepAlive: true });
server.listen(Number(process.argv[2] || 0), "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
