// The VS Code side of policylang: starts `policylang lsp` (stdio) for .pol files. Highlighting is the
// TextMate grammar in syntaxes/; everything else (diagnostics, hover, formatting …) is the server's.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const settings = vscode.workspace.getConfiguration("policylang");
  const server = {
    command: settings.get("server.command", "policylang"),
    args: settings.get("server.args", ["lsp"]),
    transport: TransportKind.stdio,
  };
  client = new LanguageClient("policylang", "policylang", server, {
    documentSelector: [{ scheme: "file", language: "policylang" }],
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
