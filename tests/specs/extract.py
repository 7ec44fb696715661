#!/usr/bin/env python3
"""Extract the request-body schemas klartext sends from the providers' official API documents.

For each operation below, writes one self-contained JSON Schema (draft 2020-12) next to this
script, so the integration tests (`tests/cli/specs.rs`) can check request bodies with no network,
no Node and no copy of the upstream documents:

    deepl-translate.request.json          DeepL   POST /v2/translate (application/json)  OpenAPI 3.0
    openai-chat-completions.request.json  OpenAI  POST /chat/completions                 OpenAPI 3.1
    openai-create-batch.request.json      OpenAI  POST /batches                          OpenAPI 3.1
    openai-create-file.request.json       OpenAI  POST /files (multipart/form-data)      OpenAPI 3.1
    ollama-chat.request.json              Ollama  POST /api/chat                         OpenAPI 3.1
    azure-translate.request.json          Azure   POST /translate (Text Translation v3.0) Swagger 2.0
    azure-translate-legacy.request.json   Azure   POST /translate (TranslatorText v3.0)   Swagger 2.0
    google-translate-v2.request.json      Google  POST /language/translate/v2            Discovery
    gemini-generate-content.request.json  Gemini  POST /v1beta/models/*:generateContent  protobuf

Usage (Python 3.11+, PyYAML: `pip install pyyaml`), from the repository root; every option is
optional and writes only its own file(s):

    python3 tests/specs/extract.py --deepl DEEPL.yaml --openai OPENAI.yaml --ollama OLLAMA.yaml \\
        --azure AZURE.json --azure-legacy TRANSLATORTEXT.json --google-translate TRANSLATE.json \\
        --googleapis GOOGLEAPIS_DIR [--googleapis-rev REV] [--out DIR]

Where the documents come from (README.md has the commits):
    DEEPL.yaml           github.com/DeepLcom/openapi  openapi.yaml
    OPENAI.yaml          github.com/openai/openai-openapi  openapi.yaml
    OLLAMA.yaml          github.com/ollama/ollama  docs/openapi.yaml
    AZURE.json           github.com/Azure/azure-rest-api-specs  specification/translation/data-plane/
                         Azure.AI.TextTranslation/stable/v3.0/openapi.json
    TRANSLATORTEXT.json  github.com/Azure/azure-rest-api-specs  specification/cognitiveservices/
                         data-plane/TranslatorText/stable/v3.0/TranslatorText.json
    TRANSLATE.json       github.com/googleapis/google-api-python-client  googleapiclient/
                         discovery_cache/documents/translate.v2.json (also in the PyPI wheel)
    GOOGLEAPIS_DIR       a checkout of github.com/googleapis/googleapis (its root); the protos
                         under google/ai/generativelanguage/v1beta/ and what they import
DIR defaults to this script's directory. A summary goes to stderr.

OpenAPI 3.x and Swagger 2.0 schema objects -> JSON Schema 2020-12:
- every `$ref` becomes `#/$defs/NAME`; only the reachable targets are copied into `$defs`
  (in OpenAPI 3.0 and Swagger 2.0 a `$ref`'s siblings are ignored, as those versions specify);
- `nullable: true` with a `type` becomes a type union with "null"; `nullable` without a type
  (or false) is dropped; OpenAI's 3.1 document still uses `nullable`, so this applies to all;
- boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric 2020-12 form;
- duplicate `required` entries are removed;
- OpenAPI-only keywords are dropped: `discriminator` (its `oneOf` stays), `x-*`, `example`,
  `deprecated`, `readOnly`, `writeOnly`, `xml`, `externalDocs`.
A Swagger 2.0 body is the `schema` of the operation's `in: body` parameter.
The YAML is read with YAML 1.2 core scalars (only true/false are booleans, no timestamps), so
values such as `no`, `on` or `2024-01-01` stay strings, as in the documents' JSON editions.

Google Discovery schemas -> JSON Schema 2020-12 (the method's `request.$ref` is the root):
- `$ref` names a schema by id and becomes `#/$defs/ID`; `type`, `properties`, `items`,
  `additionalProperties`, `enum`, `format`, `pattern`, `description` and `default` carry over;
  string `minimum`/`maximum` become numbers; type `any` puts no constraint;
- `id`, `enumDescriptions`, `annotations`, `readOnly`, `deprecated` and `enumDeprecated` are
  dropped; a property's boolean `required: true` (draft-3 style) would go into its parent's
  `required`, but discovery request schemas normally say nothing about required fields;
- nothing closes an object, since the documents never do: unknown fields pass.

Protocol buffers (Gemini publishes no OpenAPI document; its Discovery document is generated
from these protos) -> JSON Schema 2020-12 by the proto3 JSON mapping:
- a message is an object with its fields' JSON names (`json_name` or lowerCamelCase) and
  `additionalProperties: false` (proto3 JSON parsers reject unknown fields by default);
- fields marked `(google.api.field_behavior) = REQUIRED` are `required`, except those the
  rpc's `google.api.http` path binds (`{model=models/*}`): those are not body fields at all;
- the members of a `oneof` may not appear together;
- 32-bit integers: a JSON integer or a decimal string; 64-bit: the same (strings are canonical);
  float/double: a number, a numeric string, "NaN" or "(-)Infinity"; bytes: a base64 string;
  enums: the value's name or an integer; repeated: an array; map: an object;
- google.protobuf.Value is anything, Struct an object, ListValue an array, Duration a string
  like "3.5s", Timestamp an RFC 3339 string; other well-known types are not supported;
- stricter than the mapping, and said so here: only the JSON names are accepted (parsers
  also take the proto field names) and `null` is not (parsers read it as the default).
The proto parser understands the subset of the language these files use and stops on
anything else rather than guess.
"""

import argparse
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
GENERATED = "Generated by tests/specs/extract.py; do not edit, regenerate."

# (output file, option, path, media type or None for Swagger's body parameter, origin)
OPENAPI_OPERATIONS = [
    ("deepl-translate.request.json", "deepl", "/v2/translate", "application/json",
     "github.com/DeepLcom/openapi openapi.yaml"),
    ("openai-chat-completions.request.json", "openai", "/chat/completions", "application/json",
     "github.com/openai/openai-openapi openapi.yaml"),
    ("openai-create-batch.request.json", "openai", "/batches", "application/json",
     "github.com/openai/openai-openapi openapi.yaml"),
    ("openai-create-file.request.json", "openai", "/files", "multipart/form-data",
     "github.com/openai/openai-openapi openapi.yaml"),
    ("ollama-chat.request.json", "ollama", "/api/chat", "application/json",
     "github.com/ollama/ollama docs/openapi.yaml"),
    ("azure-translate.request.json", "azure", "/translate", None,
     "github.com/Azure/azure-rest-api-specs specification/translation/data-plane/"
     "Azure.AI.TextTranslation/stable/v3.0/openapi.json"),
    ("azure-translate-legacy.request.json", "azure_legacy", "/translate", None,
     "github.com/Azure/azure-rest-api-specs specification/cognitiveservices/data-plane/"
     "TranslatorText/stable/v3.0/TranslatorText.json"),
]
DISCOVERY_OPERATION = (
    "google-translate-v2.request.json", "google_translate", "language.translations.translate",
    "github.com/googleapis/google-api-python-client "
    "googleapiclient/discovery_cache/documents/translate.v2.json")
PROTO_OPERATION = (
    "gemini-generate-content.request.json",
    "google/ai/generativelanguage/v1beta/generative_service.proto",
    "google.ai.generativelanguage.v1beta.GenerativeService", "GenerateContent",
    "github.com/googleapis/googleapis")

# ---------------------------------------------------------------------------------------------
# OpenAPI 3.x / Swagger 2.0

# Keywords whose value is a map of name -> schema, a schema, or a list of schemas.
SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
SCHEMA_ONE = {"items", "additionalProperties", "not", "if", "then", "else", "contains",
              "propertyNames", "unevaluatedProperties", "unevaluatedItems", "contentSchema"}
SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
OPENAPI_ONLY = {"discriminator", "example", "deprecated", "readOnly", "writeOnly", "xml",
                "externalDocs", "nullable"}
# Would change how `$ref`s resolve inside the extract; none of the documents uses them.
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
    elif len(segments) == 2 and segments[0] == "definitions":
        name = segments[1]
    else:
        name = "_".join(segments)
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


class Extract:
    """Converts one operation's request-body schema and everything it references."""

    def __init__(self, document):
        self.document = document
        # OpenAPI 3.0 and Swagger 2.0 follow JSON Reference: a `$ref`'s siblings are ignored.
        self.ref_siblings_ignored = not str(document.get("openapi", "")).startswith("3.1")
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
        if "$ref" in node and self.ref_siblings_ignored:
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

    def body_schema(self, path, media_type):
        """The raw body schema: OpenAPI 3's requestBody content, or Swagger 2's body parameter."""
        item = self.document["paths"][path]
        operation = item["post"]
        if media_type is not None:
            body = operation["requestBody"]
            if "$ref" in body:
                body = self.resolve(body["$ref"])
            return body["content"][media_type]["schema"]
        parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
        bodies = []
        for parameter in parameters:
            if "$ref" in parameter:
                parameter = self.resolve(parameter["$ref"])
            if parameter.get("in") == "body":
                bodies.append(parameter["schema"])
        if len(bodies) != 1:
            raise SystemExit(f"POST {path}: expected one body parameter, found {len(bodies)}")
        return bodies[0]

    def request_body(self, path, media_type):
        root = self.schema(self.body_schema(path, media_type))
        defs = {}
        while self.pending:
            ref = self.pending.pop()
            defs[self.names[ref]] = self.schema(self.resolve(ref))
        return root, dict(sorted(defs.items()))


def extract_openapi(document_path, path, media_type, origin):
    with open(document_path, encoding="utf-8") as f:
        document = yaml.load(f, Loader=CoreLoader)
    info = document["info"]
    extract = Extract(document)
    root, defs = extract.request_body(path, media_type)
    if "openapi" in document:
        what = f"Request body ({media_type}) of POST {path} from the OpenAPI {document['openapi']}"
    else:
        what = (f"Request body (the in: body parameter) of POST {path} from the Swagger "
                f"{document['swagger']}")
    comment = (f"{what} document '{info['title']}', info.version {info['version']} ({origin}). "
               f"{GENERATED}")
    dropped = ", ".join(f"{k}×{n}" for k, n in sorted(extract.dropped.items()))
    notes = [f"dropped {dropped or 'nothing'}"]
    if extract.unknown:
        notes.append(f"kept unknown keywords: {sorted(extract.unknown)}")
    return comment, root, defs, notes


# ---------------------------------------------------------------------------------------------
# Google Discovery documents

DISCOVERY_COPIED = {"type", "description", "enum", "format", "pattern", "default"}
DISCOVERY_DROPPED = {"id", "enumDescriptions", "annotations", "readOnly", "deprecated",
                     "enumDeprecated"}


class Discovery:
    """Converts a Discovery document's request schema and the schemas it references."""

    def __init__(self, document):
        self.document = document
        self.pending = []
        self.seen = set()
        self.dropped = {}

    def method(self, method_id):
        def walk(resources):
            for resource in resources.values():
                for method in resource.get("methods", {}).values():
                    if method.get("id") == method_id:
                        return method
                found = walk(resource.get("resources", {}))
                if found:
                    return found
            return None

        method = walk(self.document.get("resources", {}))
        if method is None:
            raise SystemExit(f"no method {method_id!r} in the Discovery document")
        return method

    def ref_to(self, schema_id):
        if schema_id not in self.document["schemas"]:
            raise SystemExit(f"$ref to unknown schema {schema_id!r}")
        if schema_id not in self.seen:
            self.seen.add(schema_id)
            self.pending.append(schema_id)
        return "#/$defs/" + re.sub(r"[^A-Za-z0-9._-]", "_", schema_id)

    def schema(self, node):
        out = {}
        required = []
        for key, value in node.items():
            if key == "$ref":
                out["$ref"] = self.ref_to(value)
            elif key == "type":
                if value != "any":
                    out["type"] = value
            elif key in DISCOVERY_COPIED:
                out[key] = value
            elif key in ("minimum", "maximum"):
                out[key] = float(value) if re.search(r"[.eE]", str(value)) else int(value)
            elif key == "properties":
                out["properties"] = {}
                for name, sub in value.items():
                    out["properties"][name] = self.schema(sub)
                    if sub.get("required") is True:
                        required.append(name)
            elif key in ("items", "additionalProperties"):
                out[key] = self.schema(value)
            elif key == "required" and isinstance(value, bool):
                pass  # collected by the parent
            elif key in DISCOVERY_DROPPED:
                self.dropped[key] = self.dropped.get(key, 0) + 1
            else:
                raise SystemExit(f"unsupported Discovery schema keyword {key!r}")
        if required:
            out["required"] = required
        return out

    def request_body(self, method_id):
        method = self.method(method_id)
        request = method.get("request")
        if not request or "$ref" not in request:
            raise SystemExit(f"method {method_id!r} takes no request body")
        root = {"$ref": self.ref_to(request["$ref"])}
        defs = {}
        while self.pending:
            schema_id = self.pending.pop()
            defs[self.ref_to(schema_id).rsplit("/", 1)[1]] = self.schema(
                self.document["schemas"][schema_id])
        return method, root, dict(sorted(defs.items()))


def extract_discovery(document_path, method_id, origin):
    with open(document_path, encoding="utf-8") as f:
        document = json.load(f)
    discovery = Discovery(document)
    method, root, defs = discovery.request_body(method_id)
    url = document["rootUrl"] + document["servicePath"] + method["path"]
    comment = (f"Request body of {method['httpMethod']} {url} (method {method_id}, request "
               f"{method['request']['$ref']}) from the Google Discovery document "
               f"'{document['title']}' {document['id']}, revision {document['revision']} "
               f"({origin}). {GENERATED}")
    dropped = ", ".join(f"{k}×{n}" for k, n in sorted(discovery.dropped.items()))
    return comment, root, defs, [f"dropped {dropped or 'nothing'}"]


# ---------------------------------------------------------------------------------------------
# Protocol buffers

TOKEN = re.compile(r"""
    (?P<space>\s+) | (?P<comment>//[^\n]*|/\*.*?\*/) |
    (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*') |
    (?P<number>-?(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|inf|nan)\b) |
    (?P<name>\.?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*) |
    (?P<punct>[{}\[\]()<>=;,:.-])
""", re.S | re.X)

SCALARS = {"double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
           "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes"}
FLOAT_TEXT = r"^(NaN|-?Infinity|-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?)$"
SCALAR_DEFS = {
    "_float": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": FLOAT_TEXT}]},
    "_int32": {"anyOf": [{"type": "integer", "minimum": -2**31, "maximum": 2**31 - 1},
                         {"type": "string", "pattern": "^-?[0-9]+$"}]},
    "_uint32": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
                          {"type": "string", "pattern": "^[0-9]+$"}]},
    "_int64": {"anyOf": [{"type": "integer", "minimum": -2**63, "maximum": 2**63 - 1},
                         {"type": "string", "pattern": "^-?[0-9]+$"}]},
    "_uint64": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
                          {"type": "string", "pattern": "^[0-9]+$"}]},
    "_bytes": {"type": "string", "contentEncoding": "base64",
               "pattern": "^[A-Za-z0-9+/_-]*={0,2}$"},
}
SCALAR_REF = {"double": "_float", "float": "_float", "int32": "_int32", "sint32": "_int32",
              "sfixed32": "_int32", "uint32": "_uint32", "fixed32": "_uint32",
              "int64": "_int64", "sint64": "_int64", "sfixed64": "_int64", "uint64": "_uint64",
              "fixed64": "_uint64", "bytes": "_bytes"}
WELL_KNOWN = {
    "google.protobuf.Value": True,
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
}


def tokenize(text, file_name):
    tokens = []
    position = 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match:
            raise SystemExit(f"{file_name}: cannot read {text[position:position + 40]!r}")
        position = match.end()
        if match.lastgroup not in ("space", "comment"):
            tokens.append(match.group())
    return tokens


class Message:
    def __init__(self, full_name):
        self.full_name = full_name
        self.fields = []  # dicts: name, json, type, label, key, oneof, behaviors


class ProtoFile:
    """One .proto file: package, imports, messages, enums and services (rpcs' HTTP rules)."""

    def __init__(self, text, file_name):
        self.file_name = file_name
        self.tokens = tokenize(text, file_name)
        self.at = 0
        self.package = ""
        self.imports = []
        self.messages = {}
        self.enums = {}
        self.rpcs = {}  # "pkg.Service.Rpc" -> {"input": type name, "scope": ..., "http": {...}}
        self.parse()

    # -- tokens
    def peek(self, ahead=0):
        index = self.at + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def next(self):
        token = self.peek()
        if token is None:
            self.fail("unexpected end of file")
        self.at += 1
        return token

    def expect(self, wanted):
        token = self.next()
        if token != wanted:
            self.fail(f"expected {wanted!r}, found {token!r}")

    def fail(self, message):
        context = " ".join(self.tokens[max(0, self.at - 8):self.at + 4])
        raise SystemExit(f"{self.file_name}: {message} near: {context}")

    def skip_statement(self):
        """Up to and including the `;` that ends the statement, over nested braces."""
        depth = 0
        while True:
            token = self.next()
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
            elif token == ";" and depth == 0:
                return

    # -- grammar
    def parse(self):
        while self.peek() is not None:
            token = self.next()
            if token == "syntax":
                self.expect("=")
                if self.next() not in ('"proto3"', "'proto3'"):
                    self.fail("only proto3 files are supported")
                self.expect(";")
            elif token == "package":
                self.package = self.next()
                self.expect(";")
            elif token == "import":
                name = self.next()
                if name in ("public", "weak"):
                    name = self.next()
                self.imports.append(name.strip("\"'"))
                self.expect(";")
            elif token == "option":
                self.skip_statement()
            elif token == "message":
                self.message(self.package)
            elif token == "enum":
                self.enum(self.package)
            elif token == "service":
                self.service()
            elif token == ";":
                pass
            else:
                self.fail(f"unsupported top-level {token!r}")

    def qualified(self, scope, name):
        return f"{scope}.{name}" if scope else name

    def message(self, scope):
        full_name = self.qualified(scope, self.next())
        message = Message(full_name)
        self.messages[full_name] = message
        self.expect("{")
        self.message_body(message, oneof=None)

    def message_body(self, message, oneof):
        while True:
            token = self.peek()
            if token == "}":
                self.next()
                return
            if token == ";":
                self.next()
            elif token == "message" and oneof is None:
                self.next()
                self.message(message.full_name)
            elif token == "enum" and oneof is None:
                self.next()
                self.enum(message.full_name)
            elif token in ("option", "reserved", "extensions"):
                self.skip_statement()
            elif token == "oneof" and oneof is None:
                self.next()
                name = self.next()
                self.expect("{")
                self.message_body(message, oneof=name)
            elif token in ("extend", "group"):
                self.fail(f"unsupported {token!r}")
            else:
                self.field(message, oneof)

    def field(self, message, oneof):
        label = None
        if self.peek() in ("repeated", "optional"):
            label = self.next()
        key = None
        if self.peek() == "map":
            self.next()
            self.expect("<")
            key = self.next()
            self.expect(",")
            type_name = self.next()
            self.expect(">")
            label = "map"
        else:
            type_name = self.next()
        name = self.next()
        self.expect("=")
        self.next()  # the field number
        options = self.field_options() if self.peek() == "[" else []
        behaviors = {value for option, value in options
                     if option == "(google.api.field_behavior)"}
        json_names = [value.strip("\"'") for option, value in options if option == "json_name"]
        message.fields.append({
            "name": name, "json": json_names[0] if json_names else lower_camel(name),
            "type": type_name, "label": label, "key": key,
            "oneof": oneof, "behaviors": behaviors})
        self.expect(";")

    def field_options(self):
        """`[name = value, ...]` as (name, value) pairs; aggregate values come back as None."""
        self.expect("[")
        options = []
        while True:
            name = self.next()
            if name == "(":
                name = "(" + self.next() + ")"
                self.expect(")")
            while self.peek() == "." or (self.peek() or "").startswith("."):
                token = self.next()
                name += token if token != "." else "." + self.next()
            self.expect("=")
            options.append((name, self.option_value()))
            token = self.next()
            if token == "]":
                return options
            if token != ",":
                self.fail(f"expected ',' or ']', found {token!r}")

    def option_value(self):
        token = self.next()
        if token == "{":
            self.aggregate()
            return None
        if token == "-":
            return "-" + self.next()
        while token[0] in "\"'" and (self.peek() or " ")[0] in "\"'":
            token = token[:-1] + self.next()[1:]  # adjacent strings concatenate
        return token

    def aggregate(self):
        """The text-format message after `{` (consumed), as a list of (key, value) pairs."""
        pairs = []
        while True:
            key = self.next()
            if key == "}":
                return pairs
            if key in (",", ";"):
                continue
            if self.peek() == ":":
                self.next()
            if self.peek() == "{":
                self.next()
                pairs.append((key, self.aggregate()))
            elif self.peek() == "[":
                self.next()
                values = []
                while (token := self.next()) != "]":
                    if token == "{":
                        values.append(self.aggregate())
                    elif token != ",":
                        values.append(token)
                pairs.append((key, values))
            else:
                pairs.append((key, self.option_value()))

    def enum(self, scope):
        full_name = self.qualified(scope, self.next())
        values = []
        self.expect("{")
        while (token := self.next()) != "}":
            if token in ("option", "reserved"):
                self.at -= 1
                self.skip_statement()
            elif token == ";":
                continue
            else:
                self.expect("=")
                self.option_value()
                if self.peek() == "[":
                    self.field_options()
                self.expect(";")
                values.append(token)
        self.enums[full_name] = values

    def service(self):
        service = self.qualified(self.package, self.next())
        self.expect("{")
        while (token := self.next()) != "}":
            if token == "option":
                self.skip_statement()
                continue
            if token == ";":
                continue
            if token != "rpc":
                self.fail(f"unsupported {token!r} in a service")
            name = self.next()
            self.expect("(")
            if self.peek() == "stream":
                self.next()
            request = self.next()
            self.expect(")")
            self.expect("returns")
            self.expect("(")
            if self.peek() == "stream":
                self.next()
            self.next()
            self.expect(")")
            http = None
            if self.peek() == "{":
                self.next()
                while (token := self.next()) != "}":
                    if token == ";":
                        continue
                    if token != "option":
                        self.fail(f"unsupported {token!r} in an rpc")
                    if self.peek() == "(" and self.peek(1) == "google.api.http":
                        self.at += 3
                        self.expect("=")
                        self.expect("{")
                        http = dict((k, v) for k, v in self.aggregate() if isinstance(v, str))
                        self.expect(";")
                    else:
                        self.skip_statement()
            else:
                self.expect(";")
            self.rpcs[f"{service}.{name}"] = {"input": request, "scope": self.package,
                                              "http": http}


def lower_camel(name):
    """protoc's default JSON name: underscores dropped, the letter after each upper-cased."""
    out, upper = [], False
    for char in name:
        if char == "_":
            upper = True
        elif upper:
            out.append(char.upper())
            upper = False
        else:
            out.append(char)
    return "".join(out)


class Protos:
    """Loads a root .proto and its imports from a googleapis checkout and maps messages."""

    def __init__(self, root_dir, start):
        self.root_dir = Path(root_dir)
        self.messages = {}
        self.enums = {}
        self.rpcs = {}
        self.files = []
        self.load(start)
        self.pending = []
        self.seen = set()
        self.scalars = set()

    def load(self, name):
        if name in self.files or name.startswith(("google/protobuf/", "google/api/")):
            return  # well-known types are mapped by hand; google/api holds only annotations
        path = self.root_dir / name
        if not path.is_file():
            raise SystemExit(f"{path}: not found (import of the root .proto)")
        self.files.append(name)
        parsed = ProtoFile(path.read_text(encoding="utf-8"), name)
        self.messages.update(parsed.messages)
        self.enums.update(parsed.enums)
        self.rpcs.update(parsed.rpcs)
        for imported in parsed.imports:
            self.load(imported)

    def resolve(self, type_name, scope):
        """Protobuf name lookup: the innermost enclosing scope that defines the name wins."""
        if type_name.startswith("."):
            candidates = [type_name[1:]]
        else:
            parts = scope.split(".") if scope else []
            candidates = [".".join([*parts[:i], type_name]) for i in range(len(parts), -1, -1)]
        for candidate in candidates:
            if (candidate in self.messages or candidate in self.enums
                    or candidate in WELL_KNOWN):
                return candidate
        raise SystemExit(f"unknown type {type_name!r} (looked up from {scope!r})")

    def def_name(self, full_name, package):
        name = full_name[len(package) + 1:] if full_name.startswith(package + ".") else full_name
        return re.sub(r"[^A-Za-z0-9._-]", "_", name)

    def ref_to(self, full_name):
        if full_name not in self.seen:
            self.seen.add(full_name)
            self.pending.append(full_name)
        return {"$ref": "#/$defs/" + self.def_name(full_name, self.package)}

    def type_schema(self, type_name, scope):
        if type_name in SCALARS:
            if type_name in SCALAR_REF:
                self.scalars.add(SCALAR_REF[type_name])
                return {"$ref": "#/$defs/" + SCALAR_REF[type_name]}
            return {"type": "boolean" if type_name == "bool" else "string"}
        full_name = self.resolve(type_name, scope)
        if full_name in WELL_KNOWN:
            return WELL_KNOWN[full_name]
        return self.ref_to(full_name)

    def field_schema(self, field, scope):
        value = self.type_schema(field["type"], scope)
        if field["label"] == "repeated":
            return {"type": "array", "items": value}
        if field["label"] == "map":
            out = {"type": "object", "additionalProperties": value}
            if field["key"] in ("bool",):
                out["propertyNames"] = {"enum": ["true", "false"]}
            elif field["key"] != "string":
                out["propertyNames"] = {"pattern": "^-?[0-9]+$"}
            return out
        return value

    def message_schema(self, message, skip=()):
        properties, required, oneofs = {}, [], {}
        for field in message.fields:
            if field["name"] in skip:
                continue
            properties[field["json"]] = self.field_schema(field, message.full_name)
            if field["oneof"] is not None:
                oneofs.setdefault(field["oneof"], []).append(field["json"])
            elif "REQUIRED" in field["behaviors"]:
                required.append(field["json"])
        out = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            out["required"] = required
        exclusive = [{"not": {"anyOf": [{"required": list(pair)}
                                        for pair in itertools.combinations(members, 2)]}}
                     for members in oneofs.values() if len(members) > 1]
        if exclusive:
            out["allOf"] = exclusive
        return out

    def enum_schema(self, full_name):
        return {"anyOf": [{"type": "string", "enum": self.enums[full_name]},
                          {"type": "integer"}]}

    def request_body(self, service, rpc_name):
        rpc = self.rpcs.get(f"{service}.{rpc_name}")
        if rpc is None:
            raise SystemExit(f"no rpc {service}.{rpc_name}")
        http = rpc["http"] or {}
        verbs = [verb for verb in ("get", "put", "post", "delete", "patch") if verb in http]
        if len(verbs) != 1 or http.get("body") != '"*"':
            raise SystemExit(f"{rpc_name}: expected one HTTP rule with body \"*\", got {http}")
        template = http[verbs[0]].strip("\"'")
        bound = {variable.split(".")[0] for variable in re.findall(r"\{([^}=]+)", template)}
        request = self.resolve(rpc["input"], rpc["scope"])
        self.package = request.rsplit(".", 1)[0]
        root = self.message_schema(self.messages[request], skip=bound)
        defs = {}
        while self.pending:
            full_name = self.pending.pop()
            schema = (self.message_schema(self.messages[full_name]) if full_name in self.messages
                      else self.enum_schema(full_name))
            defs[self.def_name(full_name, self.package)] = schema
        for scalar in self.scalars:
            defs[scalar] = SCALAR_DEFS[scalar]
        return f"{verbs[0].upper()} {template}", request, root, dict(sorted(defs.items()))


def extract_proto(root_dir, start, service, rpc_name, origin, revision):
    protos = Protos(root_dir, start)
    route, request, root, defs = protos.request_body(service, rpc_name)
    package_dir = start.rsplit("/", 1)[0]
    comment = (f"Request body of {service}.{rpc_name} ({route}, body \"*\"; request message "
               f"{request}) from the protocol buffer definitions {package_dir}/*.proto "
               f"({origin}, {revision or 'revision not given'}), mapped by the proto3 JSON "
               f"rules; Gemini's generateContent. {GENERATED}")
    return comment, root, defs, [f"read {len(protos.files)} .proto files"]


# ---------------------------------------------------------------------------------------------

def write(out_dir, file_name, comment, root, defs, notes):
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$comment": comment}
    schema.update(root)
    if defs:
        schema["$defs"] = defs
    text = json.dumps(schema, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    (out_dir / file_name).write_text(text, encoding="utf-8")
    print(f"{file_name}: {len(text.encode())} bytes, {len(defs)} $defs; {'; '.join(notes)}",
          file=sys.stderr)


def git_revision(root_dir):
    try:
        result = subprocess.run(["git", "-C", str(root_dir), "rev-parse", "HEAD"],
                                capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"commit {result.stdout.strip()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deepl", help="DeepL OpenAPI document (YAML or JSON)")
    parser.add_argument("--openai", help="OpenAI OpenAPI document (YAML or JSON)")
    parser.add_argument("--ollama", help="Ollama OpenAPI document (YAML or JSON)")
    parser.add_argument("--azure", help="Azure Text Translation v3.0 Swagger (openapi.json)")
    parser.add_argument("--azure-legacy", help="Azure TranslatorText v3.0 Swagger")
    parser.add_argument("--google-translate", help="Discovery document translate.v2.json")
    parser.add_argument("--googleapis", help="root of a googleapis/googleapis checkout")
    parser.add_argument("--googleapis-rev",
                        help="the checkout's revision for the $comment (default: git HEAD)")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    wrote = 0

    for file_name, option, path, media_type, origin in OPENAPI_OPERATIONS:
        if getattr(args, option):
            write(args.out, file_name,
                  *extract_openapi(getattr(args, option), path, media_type, origin))
            wrote += 1
    if args.google_translate:
        file_name, _, method_id, origin = DISCOVERY_OPERATION
        write(args.out, file_name, *extract_discovery(args.google_translate, method_id, origin))
        wrote += 1
    if args.googleapis:
        file_name, start, service, rpc_name, origin = PROTO_OPERATION
        revision = args.googleapis_rev or git_revision(args.googleapis)
        write(args.out, file_name,
              *extract_proto(args.googleapis, start, service, rpc_name, origin, revision))
        wrote += 1
    if not wrote:
        parser.error("name at least one document")


if __name__ == "__main__":
    main()
