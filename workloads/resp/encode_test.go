package resp

import "testing"

func TestAppend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got, want string
	}{
		{string(AppendCommand(nil, "GET", "k")), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"},
		{string(AppendCommand(nil)), "*0\r\n"},
		{string(AppendBulk(nil, []byte("a\r\nb"))), "$4\r\na\r\nb\r\n"},
		{string(AppendBulkString(nil, "")), "$0\r\n\r\n"},
		{string(AppendError(nil, "ERR bad\r\nthing")), "-ERR bad  thing\r\n"},
		{string(AppendSimple(nil, "OK")), "+OK\r\n"},
		{string(AppendInt(nil, -12)), ":-12\r\n"},
		{string(AppendNull(nil)), "$-1\r\n"},
		{string(AppendArrayHeader(nil, 3)), "*3\r\n"},
		{string(AppendBulkHeader(nil, 10)), "$10\r\n"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}
