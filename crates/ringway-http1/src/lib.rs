//! Sans-IO HTTP/1.1 codec: request and response heads, body framing and the chunked decoder, strict against request smuggling
