package workloads

import (
	"bytes"
	"testing"
)

// The values every backend has served so far, byte for byte: SecretValue
// with secret 0 must keep them, or results recorded against a real Redis
// loaded with them would no longer verify.
func TestValueKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		size int
		want string
	}{
		{"item:1", 64, "ugbfrnveawlpjwmlxjtsjggmwwufferbtmgqjgfqqonknvneibundsccautftbns"},
		{"", 10, "uhktjyznaz"},
		{"session:7", 20, "sjwkrwtpbafcicekbezi"},
		{"burst", 1, "r"},
		{"x", 0, ""},
	}
	for _, tt := range tests {
		for name, got := range map[string][]byte{
			"Value":              Value(tt.key, tt.size),
			"SecretValue(0)":     SecretValue(0, tt.key, tt.size),
			"AppendSecretValue0": AppendSecretValue(nil, 0, tt.key, tt.size),
		} {
			if string(got) != tt.want {
				t.Errorf("%s(%q, %d) = %q, want %q", name, tt.key, tt.size, got, tt.want)
			}
		}
	}
	if h := FNV1aScalar(FNVOffset, Value("user:42", 4096)); h != 0x7ccbfe4cb6d63eb2 {
		t.Errorf("FNV-1a of Value(user:42, 4096) = %#x, want 0x7ccbfe4cb6d63eb2", h)
	}
}

func TestSecretValue(t *testing.T) {
	t.Parallel()
	const size = 64
	secrets := []uint64{0, 1, 2, 1 << 63, 0xdeadbeef, NewSecret()}
	seen := map[string]uint64{}
	for _, s := range secrets {
		for _, key := range []string{"item:1", "item:2", "session:9"} {
			v := SecretValue(s, key, size)
			if len(v) != size || bytes.ContainsFunc(v, func(r rune) bool { return r < 'a' || r > 'z' }) {
				t.Fatalf("SecretValue(%#x, %q) = %q: want %d lowercase letters", s, key, v, size)
			}
			if !bytes.Equal(v, SecretValue(s, key, size)) {
				t.Fatalf("SecretValue(%#x, %q) is not repeatable", s, key)
			}
			if prev, dup := seen[string(v)]; dup {
				t.Fatalf("secrets %#x and %#x give %q the same value", prev, s, key)
			}
			seen[string(v)] = s
			// Appending keeps dst and gives the same bytes.
			if got := AppendSecretValue([]byte("pre"), s, key, size); string(got) != "pre"+string(v) {
				t.Fatalf("AppendSecretValue = %q", got)
			}
			// A prefix of a longer value: the size only cuts.
			if long := SecretValue(s, key, 3*size); !bytes.HasPrefix(long, v) {
				t.Fatalf("SecretValue(%#x, %q, %d) does not extend the shorter value", s, key, 3*size)
			}
		}
	}
	if NewSecret() == 0 {
		t.Fatal("NewSecret returned 0, which means no secret")
	}
}
