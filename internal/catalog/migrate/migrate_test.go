package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string // versions joined, or an error fragment
	}{
		{"in version order", []string{"0002_b.sql", "0001_a.sql", "README.md"}, "1 2"},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, "expected version 2"},
		{"repeat", []string{"0001_a.sql", "0001_b.sql"}, "expected version 2"},
		{"no number", []string{"init.sql"}, "must start with a version number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["m/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			list, err := Load(fsys, "m")
			var got string
			if err != nil {
				got = err.Error()
			} else {
				var vs []string
				for _, m := range list {
					vs = append(vs, strings.TrimLeft(m.Name[:4], "0"))
				}
				got = strings.Join(vs, " ")
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("Load = %q, want %q", got, tt.want)
			}
		})
	}
}
