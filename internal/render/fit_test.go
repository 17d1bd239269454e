package render

import "testing"

func TestWaterLevel(t *testing.T) {
	tests := []struct {
		name  string
		costs []int
		room  int
		want  int
	}{
		{"one section gets all the room", []int{1000}, 300, 300},
		{"small sections stay whole, the large one gets the rest", []int{50, 1000, 30}, 300, 220},
		{"equal sections share equally", []int{500, 500}, 300, 150},
		{"two large sections share what the small one leaves", []int{100, 900, 900}, 700, 300},
		{"no room", []int{10, 20}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := waterLevel(tt.costs, tt.room)
			if got != tt.want {
				t.Errorf("waterLevel(%v, %d) = %d, want %d", tt.costs, tt.room, got, tt.want)
			}
			used := 0
			for _, c := range tt.costs {
				used += min(c, got)
			}
			if used > tt.room {
				t.Errorf("level %d uses %d bytes, room %d", got, used, tt.room)
			}
		})
	}
}

func TestHardCut(t *testing.T) {
	text := "intro\n\n```sql\nSELECT 1\nFROM a\nWHERE b\n```\n\ntail\n"
	tests := []struct {
		name  string
		limit int
		want  string
	}{
		{
			name:  "cut inside a fence closes it",
			limit: 140,
			want:  "intro\n\n```sql\nSELECT 1\nFROM a\n```\n\n_Output truncated at 140 bytes. Narrow the query (fewer columns, GROUP BY, LIMIT) to see the rest._\n",
		},
		{
			name:  "cut before the fence",
			limit: 120,
			want:  "intro\n\n\n_Output truncated at 120 bytes. Narrow the query (fewer columns, GROUP BY, LIMIT) to see the rest._\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hardCut(text, tt.limit)
			if got != tt.want {
				t.Errorf("hardCut() =\n%q\nwant\n%q", got, tt.want)
			}
			if len(got) > tt.limit {
				t.Errorf("hardCut() is %d bytes, limit %d", len(got), tt.limit)
			}
		})
	}
}
