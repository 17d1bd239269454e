package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDictionary(t *testing.T) {
	want := []Description{
		{Table: "users", Description: "One row per panelist."},
		{Table: "users", Column: "nccs", Description: "Socio-economic class, A1..E."},
	}
	tests := []struct {
		name, format, in string
		want             []Description
		err              string
	}{
		{"csv, columns in any order", "", "description,table,column\nOne row per panelist.,users,\n\"Socio-economic class, A1..E.\",users,nccs\n", want, ""},
		{"csv with a BOM and spaces", "csv", "\ufefftable, column, description\nusers,,One row per panelist.\nusers, nccs , \"Socio-economic class, A1..E.\"\n", want, ""},
		{"yaml", "", "- table: users\n  description: One row per panelist.\n- {table: users, column: nccs, description: 'Socio-economic class, A1..E.'}\n", want, ""},
		{"yaml unknown key", "yaml", "- table: users\n  colum: nccs\n  description: x\n", nil, "field colum not found"},
		{"csv without a description column", "csv", "table,column\nusers,nccs\n", nil, `"description" is missing`},
		{"csv ragged row", "csv", "table,column,description\nusers,nccs\n", nil, "wrong number of fields"},
		{"entry without a table", "yaml", "- column: x\n  description: y\n", nil, "table is empty"},
		{"unknown format", "xml", "<x/>", nil, "csv or yaml"},
		{"csv with units", "csv", "table,column,description,unit\norders,amount,Order value,₹ \norders,order_id,Order,\n",
			[]Description{{Table: "orders", Column: "amount", Description: "Order value", Unit: "₹"}, {Table: "orders", Column: "order_id", Description: "Order"}}, ""},
		{"yaml with units", "", "- {table: orders, column: amount, description: Order value, unit: INR}\n",
			[]Description{{Table: "orders", Column: "amount", Description: "Order value", Unit: "INR"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDictionary(strings.NewReader(tt.in), tt.format)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestKeepUnits(t *testing.T) {
	stored := []Description{
		{Table: "orders", Column: "amount", Description: "Order value", Unit: "₹"},
		{Table: "users", Column: "total_spend", Description: "Spend", Unit: "₹"},
	}
	tests := []struct {
		name    string
		updates []Description
		want    []Description
	}{
		{"a file without units keeps the stored ones",
			[]Description{{Table: "orders", Column: "amount", Description: "Order value in rupees"}, {Table: "orders", Column: "category", Description: "Category"}},
			[]Description{{Table: "orders", Column: "amount", Description: "Order value in rupees", Unit: "₹"}, {Table: "orders", Column: "category", Description: "Category"}}},
		{"a file with units is the whole truth",
			[]Description{{Table: "orders", Column: "amount", Description: "Order value"}, {Table: "users", Column: "total_spend", Description: "Spend", Unit: "INR"}},
			[]Description{{Table: "orders", Column: "amount", Description: "Order value"}, {Table: "users", Column: "total_spend", Description: "Spend", Unit: "INR"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, KeepUnits(tt.updates, stored)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
