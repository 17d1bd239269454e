package significance

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkCrosstab_Compare measures the work a compare_by adds in Go after
// the statement: everything but the Rao–Scott solve is linear in the cells;
// the solve is cubic in (r−1)(c−1).
func BenchmarkCrosstab_Compare(b *testing.B) {
	for _, size := range [][2]int{{3, 4}, {10, 10}, {20, 26}} {
		rows, groups := size[0], size[1]
		rng := rand.New(rand.NewPCG(1, 2))
		x := Crosstab{Options: Options{NDesign: 1_000_000}}
		for i := 0; i < rows; i++ {
			x.Rows = append(x.Rows, fmt.Sprintf("r%02d", i))
		}
		for j := 0; j < groups; j++ {
			x.Groups = append(x.Groups, fmt.Sprintf("g%02d", j))
		}
		x.Cells = make([][]Cell, rows)
		for i := range x.Cells {
			x.Cells[i] = make([]Cell, groups)
			for j := range x.Cells[i] {
				n := 100 + rng.IntN(1000)
				w := float64(n) * (50 + 100*rng.Float64())
				x.Cells[i][j] = Cell{N: int64(n), SumW: w, SumW2: w * w / float64(n) * (1 + rng.Float64())}
			}
		}
		b.Run(fmt.Sprintf("%dx%d", rows, groups), func(b *testing.B) {
			for b.Loop() {
				if _, err := x.Compare(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMeans_Compare(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := Means{Options: Options{NDesign: 1_000_000}}
	for j := 0; j < 26; j++ {
		m.Groups = append(m.Groups, MeanGroup{Value: fmt.Sprintf("g%02d", j), N: 1000, SumW: 5e4, SumW2: 4e6, Mean: 100 + rng.Float64(), SE: 1 + rng.Float64()})
	}
	for b.Loop() {
		if _, err := m.Compare(); err != nil {
			b.Fatal(err)
		}
	}
}
