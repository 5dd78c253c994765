// sumu-client.d.ts is hand-written: this keeps it and the module in step. Every value the
// declarations export exists in the module with the declared kind, every member declared on
// SumuClient exists on its instances' prototype chain, and nothing the module exports is left
// undeclared. (tsc -p types-test checks the declarations themselves; see package.json.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as client from "../sumu-client.js";

const declarations = readFileSync(new URL("../sumu-client.d.ts", import.meta.url), "utf8");

function declaredValues() {
  const found = new Map();
  for (const match of declarations.matchAll(/^export declare (class|function) (\w+)/gm)) {
    found.set(match[2], match[1]);
  }
  return found;
}

function declaredMembers(className) {
  const start = declarations.indexOf(`export declare class ${className} `);
  assert.notEqual(start, -1, `${className} is declared`);
  const body = declarations.slice(start, declarations.indexOf("\n}\n", start));
  const members = new Set();
  for (const match of body.matchAll(/^ {2}(?:readonly )?(\w+)[<(:]/gm)) {
    if (match[1] !== "constructor") members.add(match[1]);
  }
  return members;
}

test("declarations: every declared value is exported with its kind", () => {
  const values = declaredValues();
  assert.ok(values.size >= 4, "the parser found the declarations");
  for (const [name, kind] of values) {
    assert.equal(typeof client[name], "function", `${name} (${kind}) is exported`);
    if (kind === "class") {
      assert.match(String(client[name]), /^class /, `${name} is a class`);
    }
  }
});

test("declarations: nothing exported is undeclared", () => {
  const values = declaredValues();
  for (const name of Object.keys(client)) {
    assert.ok(values.has(name), `${name} is exported but not in sumu-client.d.ts`);
  }
});

test("declarations: every SumuClient member exists", () => {
  const members = declaredMembers("SumuClient");
  assert.ok(members.size >= 8, `the parser found the members: ${[...members]}`);
  const prototype = client.SumuClient.prototype;
  for (const name of members) {
    assert.ok(
      name in prototype || name === "connectionId",
      `SumuClient.${name} is declared but the class has no such member`,
    );
  }
});

test("declarations: connectionId, a field, is set by the constructor", () => {
  assert.match(readFileSync(new URL("../sumu-client.js", import.meta.url), "utf8"), /this\.connectionId = /);
});
