#!/usr/bin/env python3
"""Extract the request-body schemas klartext sends from the providers' official OpenAPI documents.

For each operation below, writes one self-contained JSON Schema (draft 2020-12) next to this
script, so the Rust tests (`src/spec_check.rs`) can check request bodies with no network, no
Node and no copy of the OpenAPI documents:

    deepl-translate.request.json          DeepL   POST /v2/translate     (application/json body)
    openai-chat-completions.request.json  OpenAI  POST /chat/completions
    ollama-chat.request.json              Ollama  POST /api/chat

Usage (Python 3.11+, PyYAML: `pip install pyyaml`), from the repository root:

    python3 tests/specs/extract.py DEEPL.yaml OPENAI.yaml OLLAMA.yaml [--out DIR]

DEEPL.yaml is `openapi.yaml` of github.com/DeepLcom/openapi, OPENAI.yaml is `openapi.yaml` of
github.com/openai/openai-openapi, OLLAMA.yaml is `docs/openapi.yaml` of github.com/ollama/ollama.
DIR defaults to this script's directory. A summary goes to stderr.

Conversion from OpenAPI schema objects to JSON Schema 2020-12:
- every `$ref` becomes `#/$defs/NAME`; only the reachable targets are copied into `$defs`
  (in an OpenAPI 3.0 document a `$ref`'s siblings are ignored, as that version specifies);
- `nullable: true` with a `type` becomes a type union with "null"; `nullable` without a type
  (or false) is dropped; OpenAI's 3.1 document still uses `nullable`, so this applies to all;
- boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric 2020-12 form;
- duplicate `required` entries are removed;
- OpenAPI-only keywords are dropped: `discriminator` (its `oneOf` stays), `x-*`, `example`,
  `deprecated`, `readOnly`, `writeOnly`, `xml`, `externalDocs`.
The YAML is read with YAML 1.2 core scalars (only true/false are booleans, no timestamps), so
values such as `no`, `on` or `2024-01-01` stay strings, as in the documents' JSON editions.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

# (output file, which argument, path, media type, upstream origin of the document)
OPERATIONS = [
    ("deepl-translate.request.json", "deepl", "/v2/translate", "application/json",
     "github.com/DeepLcom/openapi openapi.yaml"),
    ("openai-chat-completions.request.json", "openai", "/chat/completions", "application/json",
     "github.com/openai/openai-openapi openapi.yaml"),
    ("ollama-chat.request.json", "ollama", "/api/chat", "application/json",
     "github.com/ollama/ollama docs/openapi.yaml"),
]

# Keywords whose value is a map of name -> schema, a schema, or a list of schemas.
SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
SCHEMA_ONE = {"items", "additionalProperties", "not", "if", "then", "else", "contains",
              "propertyNames", "unevaluatedProperties", "unevaluatedItems", "contentSchema"}
SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
OPENAPI_ONLY = {"discriminator", "example", "deprecated", "readOnly", "writeOnly", "xml",
                "externalDocs", "nullable"}
# Would change how `$ref`s resolve inside the extract; none of the three documents uses them.
UNSUPPORTED = {"$id", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef"}
KNOWN = SCHEMA_MAPS | SCHEMA_ONE | SCHEMA_LISTS | {
    "$ref", "$comment", "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum",
    "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired", "title", "description", "default", "examples", "format",
    "contentEncoding", "contentMediaType"}


class CoreLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema booleans and numbers, and no timestamps."""


_REPLACED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
             "tag:yaml.org,2002:timestamp"}
CoreLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."))


def _core_int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


CoreLoader.add_constructor("tag:yaml.org,2002:int", _core_int)
CoreLoader.add_constructor(
    "tag:yaml.org,2002:float", lambda loader, node: float(loader.construct_scalar(node)))


def unescape_pointer(ref):
    if not ref.startswith("#/"):
        raise SystemExit(f"unsupported $ref {ref!r}: only document-local refs are handled")
    return [s.replace("~1", "/").replace("~0", "~") for s in ref[2:].split("/")]


def def_name(segments):
    if len(segments) == 3 and segments[:2] == ["components", "schemas"]:
        name = segments[2]
    else:
        name = "_".join(segments)
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


class Extract:
    """Converts one operation's request-body schema and everything it references."""

    def __init__(self, document):
        self.document = document
        self.is_oas30 = str(document.get("openapi", "")).startswith("3.0")
        self.names = {}  # $ref string -> $defs name
        self.pending = []
        self.dropped = {}
        self.unknown = set()

    def resolve(self, ref):
        node = self.document
        for segment in unescape_pointer(ref):
            node = node[segment]
        return node

    def ref_to(self, ref):
        if ref not in self.names:
            name = def_name(unescape_pointer(ref))
            if name in self.names.values():
                raise SystemExit(f"two $refs map to the $defs name {name!r}")
            self.names[ref] = name
            self.pending.append(ref)
        return "#/$defs/" + self.names[ref]

    def schema(self, node):
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            raise SystemExit(f"not a schema: {node!r}")
        if "$ref" in node and self.is_oas30:
            siblings = [k for k in node if k != "$ref"]
            for key in siblings:
                self.dropped[key] = self.dropped.get(key, 0) + 1
            return {"$ref": self.ref_to(node["$ref"])}
        out = {}
        for key, value in node.items():
            if key.startswith("x-") or key in OPENAPI_ONLY or key == "$schema":
                self.dropped[key] = self.dropped.get(key, 0) + 1
            elif key in UNSUPPORTED:
                raise SystemExit(f"unsupported keyword {key!r}")
            elif key == "$ref":
                out[key] = self.ref_to(value)
            elif key in SCHEMA_MAPS:
                out[key] = {name: self.schema(sub) for name, sub in value.items()}
            elif key in SCHEMA_LISTS:
                out[key] = [self.schema(sub) for sub in value]
            elif key in SCHEMA_ONE:
                if isinstance(value, list):
                    raise SystemExit(f"array-form {key!r} is not draft 2020-12")
                out[key] = self.schema(value)
            else:
                if key not in KNOWN:
                    self.unknown.add(key)
                out[key] = value
        self.fix_nullable(node, out)
        self.fix_exclusive(out)
        if isinstance(out.get("required"), list):
            out["required"] = list(dict.fromkeys(out["required"]))
        return out

    @staticmethod
    def fix_nullable(node, out):
        # OAS 3.0.3: nullable adds "null" to an explicit `type` only; an `enum` without null
        # still rejects null, so the enum is left alone.
        if node.get("nullable") is True and "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            if "null" not in types:
                types = [*types, "null"]
            out["type"] = types

    @staticmethod
    def fix_exclusive(out):
        for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if isinstance(out.get(exclusive), bool):
                if out[exclusive] and bound in out:
                    out[exclusive] = out.pop(bound)
                else:
                    del out[exclusive]

    def request_body(self, path, media_type):
        body = self.document["paths"][path]["post"]["requestBody"]
        if "$ref" in body:
            body = self.resolve(body["$ref"])
        root = self.schema(body["content"][media_type]["schema"])
        defs = {}
        while self.pending:
            ref = self.pending.pop()
            defs[self.names[ref]] = self.schema(self.resolve(ref))
        return root, dict(sorted(defs.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("deepl", help="DeepL OpenAPI document (YAML or JSON)")
    parser.add_argument("openai", help="OpenAI OpenAPI document (YAML or JSON)")
    parser.add_argument("ollama", help="Ollama OpenAPI document (YAML or JSON)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    for file_name, which, path, media_type, origin in OPERATIONS:
        with open(getattr(args, which), encoding="utf-8") as f:
            document = yaml.load(f, Loader=CoreLoader)
        info = document["info"]
        extract = Extract(document)
        root, defs = extract.request_body(path, media_type)
        comment = (
            f"Request body ({media_type}) of POST {path} from the OpenAPI {document['openapi']} "
            f"document '{info['title']}', info.version {info['version']} ({origin}). "
            "Generated by tests/specs/extract.py; do not edit, regenerate."
        )
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$comment": comment}
        schema.update(root)
        if defs:
            schema["$defs"] = defs
        text = json.dumps(schema, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
        (args.out / file_name).write_text(text, encoding="utf-8")
        dropped = ", ".join(f"{k}×{n}" for k, n in sorted(extract.dropped.items()))
        print(f"{file_name}: {len(text.encode())} bytes, {len(defs)} $defs; dropped {dropped or 'nothing'}",
              file=sys.stderr)
        if extract.unknown:
            print(f"  kept unknown keywords: {sorted(extract.unknown)}", file=sys.stderr)


if __name__ == "__main__":
    main()
