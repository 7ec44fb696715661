//! Gemini's `responseSchema` dialect: the OpenAPI-3.0 subset of Google's `Schema` object, made
//! from the JSON Schema the caller passes in `ChatRequest.schema`.

use serde_json::{Map, Value, json};

/// The schema keywords Gemini's `Schema` object knows; everything else is dropped.
const KEPT_KEYWORDS: [&str; 8] = [
    "description",
    "enum",
    "nullable",
    "required",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
];

/// Our JSON Schema in Gemini's OpenAPI-3.0 subset: upper-case types (`OBJECT`, `STRING`, …),
/// `["string", "null"]` as `nullable`, `propertyOrdering` following `required` (Gemini would
/// otherwise write properties alphabetically), and no keyword it rejects
/// (`additionalProperties`, `$schema`, `format`, …).
pub(super) fn response_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (keyword, value) in object {
        match keyword.as_str() {
            "type" => {
                let (name, nullable) = gemini_type(value);
                out.insert("type".into(), json!(name));
                if nullable {
                    out.insert("nullable".into(), json!(true));
                }
            }
            "properties" => {
                let properties: Map<String, Value> = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, property)| (name.clone(), response_schema(property)))
                    .collect();
                out.insert("properties".into(), Value::Object(properties));
            }
            "items" => {
                out.insert("items".into(), response_schema(value));
            }
            "anyOf" => {
                let options = value.as_array().into_iter().flatten();
                let options = options.map(response_schema).collect();
                out.insert("anyOf".into(), Value::Array(options));
            }
            kept if KEPT_KEYWORDS.contains(&kept) => {
                out.entry(kept).or_insert_with(|| value.clone());
            }
            _ => {}
        }
    }
    if let Some(Value::Object(properties)) = out.get("properties") {
        let required = out.get("required").and_then(Value::as_array);
        let required: Vec<&str> = required
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|name| properties.contains_key(*name))
            .collect();
        let rest = properties.keys().map(String::as_str);
        let mut order = required.clone();
        order.extend(rest.filter(|name| !required.contains(name)));
        out.insert("propertyOrdering".into(), json!(order));
    }
    Value::Object(out)
}

/// A JSON Schema `type` (a name or a list of names) as Gemini's upper-case type, and whether
/// `null` was among them.
fn gemini_type(value: &Value) -> (String, bool) {
    let names: Vec<&str> = match value {
        Value::String(name) => vec![name.as_str()],
        Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let nullable = names.len() > 1 && names.contains(&"null");
    let name = names
        .iter()
        .find(|name| **name != "null")
        .or(names.first())
        .map_or("STRING".to_owned(), |name| name.to_ascii_uppercase());
    (name, nullable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::testing::reply_schema;

    #[test]
    fn the_reply_schema_in_googles_subset() {
        let converted = response_schema(&reply_schema(true));
        let segment = &converted["properties"]["segments"]["items"];
        assert_eq!(converted["type"], "OBJECT");
        assert_eq!(converted["propertyOrdering"], json!(["segments"]));
        assert_eq!(converted["properties"]["segments"]["type"], "ARRAY");
        assert_eq!(
            segment["propertyOrdering"],
            json!(["id", "en", "literal", "notes"])
        );
        assert_eq!(segment["required"], json!(["id", "en", "literal", "notes"]));
        assert_eq!(
            segment["properties"]["notes"],
            json!({"type": "ARRAY", "items": {"type": "STRING"},
            "description": "Remarks for the reviewer, never part of the text; empty when there are none."})
        );
        assert!(!converted.to_string().contains("additionalProperties"));
        let loose = json!({"$schema": "x", "type": "object", "properties": {
            "b": {"type": ["string", "null"], "enum": ["x", "y"], "format": "uri"},
            "a": {"type": "integer", "minimum": 1}, "c": {"type": "boolean"}}, "required": ["c"]});
        assert_eq!(
            response_schema(&loose),
            json!({"type": "OBJECT", "required": ["c"],
            "propertyOrdering": ["c", "a", "b"], "properties": {
            "b": {"type": "STRING", "nullable": true, "enum": ["x", "y"]},
            "a": {"type": "INTEGER", "minimum": 1}, "c": {"type": "BOOLEAN"}}})
        );
    }
}
