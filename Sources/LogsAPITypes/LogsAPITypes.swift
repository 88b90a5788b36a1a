// The public API's types for the CLI, generated from openapi/openapi.yaml at build time (the
// OpenAPI generator plugin; nothing else is in this module). A module of their own so that the
// generated code's warnings can be silenced without silencing the CLI's own: the generator
// marks its unused `public import`s for compilers from 6.4 on, and on this one each would be
// printed, 500 times a build.
