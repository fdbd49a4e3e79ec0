//! The OpenAPI 3.1 document of the socket API (`docs/openapi.json`), made
//! from the route table ([`crate::routes`]) and the wire types' JSON
//! Schemas. The schemas come from `schemars`, deriving them from the same
//! serde definitions the daemon and skillc use (JSON Schema 2020-12, the
//! dialect OpenAPI 3.1 uses); the paths from the table the daemon is tested
//! against. Only built with the `schema` feature.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::error::ErrorCode;
use crate::routes::Answer;

/// The document.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "#/components/schemas/".into())
        .into_generator();
    let mut paths: Map<String, Value> = Map::new();
    macro_rules! operations {
        ($(($method:ident, $path:expr, [$($request:ty)?], $response:ty, $answer:ident, $summary:expr, [$(($q:expr, $qd:expr)),*])),* $(,)?) => {
            $({
                let request: Option<Value> = operations!(@request $($request)?);
                let answer = Answer::$answer;
                let response = match answer {
                    Answer::Frames => json!(generator.subschema_for::<crate::stream::Frame<$response>>()),
                    Answer::Json | Answer::Events => json!(generator.subschema_for::<$response>()),
                };
                let operation = operation(stringify!($method), $path, $summary, request, response, answer, &[$(($q, $qd)),*]);
                let at = paths.entry($path.to_string()).or_insert_with(|| json!({}));
                at[stringify!($method).to_ascii_lowercase()] = operation;
            })*
        };
        (@request $request:ty) => { Some(json!(generator.subschema_for::<$request>())) };
        (@request) => { None };
    }
    crate::with_routes!(operations);
    let error = json!(generator.subschema_for::<crate::error::ErrorResponse>());
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    schemas.sort_keys();
    let statuses: Map<String, Value> = ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), json!(c.http_status())))
        .collect();
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "skilld socket API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "The JSON API of skilld, the per-user daemon that installs agent skills from OCI registries. \
                 It is served over HTTP/1.1 on a Unix socket private to its user \
                 (`$XDG_RUNTIME_DIR/skilld/skilld.sock`; `curl --unix-socket PATH http://skilld/v1/status`). \
                 Every response carries the header `{header}` with the wire protocol number ({protocol}); a client \
                 built for another number should say so and stop (`GET /v1/status` answers it too, as `protocol`).\n\n\
                 A failure is `{{\"error\": {{\"code\", \"message\", \"details\"}}}}` with the HTTP status of its code \
                 (`x-error-statuses`). Streaming routes answer `application/x-ndjson`: one JSON object per line, \
                 the schema given for the content being that of one line; a `Frame` stream is any number of \
                 `progress` frames and then exactly one `result` or `error` frame, and a stream that ends without \
                 one means the daemon went away.",
                header = crate::PROTOCOL_HEADER,
                protocol = crate::PROTOCOL,
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{
            "url": "http://skilld",
            "description": "The Unix socket $XDG_RUNTIME_DIR/skilld/skilld.sock (any host name; the socket decides)"
        }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "Error": {
                    "description": "A failure: the HTTP status is the one of `error.code` (see `x-error-statuses`).",
                    "headers": protocol_header(),
                    "content": {"application/json": {"schema": error}}
                }
            },
            "headers": {
                "Protocol": {
                    "description": "The daemon's wire protocol number.",
                    "schema": {"type": "integer", "const": crate::PROTOCOL}
                }
            }
        },
        "x-skilld-protocol": crate::PROTOCOL,
        "x-error-statuses": statuses,
    })
}

fn protocol_header() -> Value {
    json!({ crate::PROTOCOL_HEADER: {"$ref": "#/components/headers/Protocol"} })
}

fn operation(
    method: &str,
    path: &str,
    summary: &str,
    request: Option<Value>,
    response: Value,
    answer: Answer,
    query: &[(&str, &str)],
) -> Value {
    let id: String = path
        .trim_start_matches(crate::API_PREFIX)
        .split(['/', '-'])
        .filter(|p| !p.is_empty())
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_string()
            } else {
                let mut c = part.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
        })
        .collect();
    let id = format!("{}{}", method.to_ascii_lowercase(), {
        let mut c = id.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    });
    let (media, description) = match answer {
        Answer::Json => ("application/json", "The answer."),
        Answer::Frames => (
            crate::stream::NDJSON,
            "NDJSON: `progress` frames, then one `result` (the answer in `value`) or `error` frame; the schema is one line's.",
        ),
        Answer::Events => (
            crate::stream::NDJSON,
            "NDJSON: one event per line (the schema is one line's).",
        ),
    };
    let mut op = json!({
        "operationId": id,
        "summary": summary,
        "responses": {
            "200": {
                "description": description,
                "headers": protocol_header(),
                "content": {media: {"schema": response}}
            },
            "default": {"$ref": "#/components/responses/Error"}
        }
    });
    if let Some(schema) = request {
        op["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": schema}}
        });
    }
    if !query.is_empty() {
        op["parameters"] = query
            .iter()
            .map(|(name, what)| {
                json!({"name": name, "in": "query", "required": false, "description": what, "schema": {"type": "string"}})
            })
            .collect();
    }
    if path == crate::status::SHUTDOWN_ROUTE {
        let ok = op["responses"]["200"].take();
        op["responses"]
            .as_object_mut()
            .expect("an object")
            .remove("200");
        op["responses"]["202"] = ok;
    }
    op
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_error_code_is_described() {
        let doc = document();
        let paths = doc["paths"].as_object().unwrap();
        for r in crate::routes::ROUTES {
            let op = &paths[r.path][r.method.to_ascii_lowercase()];
            assert!(op["operationId"].is_string(), "{} {}", r.method, r.path);
            assert_eq!(op["requestBody"].is_object(), r.request, "{}", r.path);
        }
        let codes = doc["components"]["schemas"]["ErrorCode"].to_string();
        for c in ErrorCode::ALL {
            assert!(codes.contains(c.as_str()), "{c}");
            assert_eq!(doc["x-error-statuses"][c.as_str()], c.http_status());
        }
        // Every reference points at a schema that is there.
        let text = doc.to_string();
        for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &part[..part.find('"').unwrap()];
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
    }
}
