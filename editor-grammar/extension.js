// VS Code entry point: starts the Relance language server (`relance lsp`, over stdio) for
// `*.relance` files. Highlighting does not need it: it comes from syntaxes/relance.tmLanguage.json.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration('relance');
  const command = config.get('server.path') || 'relance';
  const args = ['lsp', ...(config.get('server.extraArgs') || [])];
  const executable = { command, args, transport: TransportKind.stdio };
  return { run: executable, debug: executable };
}

function clientOptions() {
  return {
    documentSelector: [
      { scheme: 'file', language: 'relance' },
      { scheme: 'untitled', language: 'relance' },
    ],
    // A scenario set is the .relance files plus its templates/ and rules/ folders: a changed
    // template or rule can change the diagnostics of a scenario that names it.
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.relance,rules/*.rhai,templates/*}'),
    },
  };
}

async function start() {
  client = new LanguageClient('relance', 'Relance Language Server', serverOptions(), clientOptions());
  try {
    await client.start();
  } catch (err) {
    const command = vscode.workspace.getConfiguration('relance').get('server.path') || 'relance';
    const choice = await vscode.window.showErrorMessage(
      `Relance: could not start the language server \`${command} lsp\` (${err && err.message ? err.message : err}). ` +
        'Install the relance CLI or set "relance.server.path".',
      'Open Settings',
    );
    if (choice === 'Open Settings') {
      vscode.commands.executeCommand('workbench.action.openSettings', 'relance.server.path');
    }
  }
}

async function stop() {
  if (client) {
    const c = client;
    client = undefined;
    try {
      await c.stop();
    } catch (_) {
      // the server may never have started
    }
  }
}

async function restart() {
  await stop();
  await start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('relance.restartServer', restart),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('relance.server')) restart();
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
