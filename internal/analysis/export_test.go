package analysis

import "github.com/mcp-analytics/mcp-analytics/internal/dataset"

// PlanCached plans req as a call does: from the plan cache, from its
// shape's template, or from scratch. templated says whether a template
// filled it.
func (s *Service) PlanCached(h *dataset.Handle, req Request) (p QueryPlan, templated bool, err error) {
	before := s.templateFills.Load()
	p, err = s.plan(h, req)
	return p, s.templateFills.Load() > before, err
}
