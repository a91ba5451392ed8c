package sqldialect

import (
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"in version order", fstest.MapFS{
			"m/0010_later.sql": {Data: []byte("B")},
			"m/0002_first.sql": {Data: []byte("A")},
		}, []int{2, 10}, false},
		{"a file without a version", fstest.MapFS{"m/init.sql": {}}, nil, true},
		{"not .sql", fstest.MapFS{"m/0001_init.txt": {}}, nil, true},
		{"version zero", fstest.MapFS{"m/0000_init.sql": {}}, nil, true},
		{"two of one version", fstest.MapFS{"m/0001_a.sql": {}, "m/01_b.sql": {}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(tt.files, "m")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Load: %v, want error %v", err, tt.wantErr)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("versions %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("versions %v, want %v", got, tt.want)
				}
			}
			if len(ms) > 0 && (ms[0].Name != "first" || ms[0].SQL != "A") {
				t.Errorf("first migration %+v, want name first, SQL A", ms[0])
			}
		})
	}
}
