package sqlrecord

// Bind is bind, for the tests.
var Bind = bind
