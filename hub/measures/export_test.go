package measures

// TimeColumns is timeColumns, for the tests.
var TimeColumns = timeColumns
