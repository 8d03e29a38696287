package expvar

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// scanner reads one JSON document in place, validating it as it goes: the
// /debug/vars answer is read once, front to back, with no intermediate
// values, so a scrape costs a pass over the bytes instead of the reflection
// encoding/json does. What it accepts and rejects is encoding/json's
// (FuzzParseMatchesEncodingJSON holds it to that).
type scanner struct {
	b []byte
	i int
}

// errSyntax is wrapped by every syntax error; Parse turns it into
// ErrNotJSON.
var errSyntax = errors.New("syntax error")

func (s *scanner) fail(what string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("%w: unexpected end of input, expecting %s", errSyntax, what)
	}
	return fmt.Errorf("%w at offset %d: unexpected %q, expecting %s", errSyntax, s.i, s.b[s.i], what)
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, 0 at the end (a NUL
// byte also gives 0: callers that need the end check s.i).
func (s *scanner) peek() byte {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return s.b[s.i] // no white space: the common case
	}
	s.space()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// consume skips white space and c, or fails.
func (s *scanner) consume(c byte, what string) error {
	if s.peek() != c {
		return s.fail(what)
	}
	s.i++
	return nil
}

// str reads a string at the current position and returns its bytes between
// the quotes, still escaped; plain is true when they need no unescaping
// (no escapes, valid UTF-8).
func (s *scanner) str() (raw []byte, plain bool, err error) {
	if s.peek() != '"' {
		return nil, false, s.fail("string")
	}
	s.i++
	start := s.i
	plain = true
	ascii := true
	for s.i < len(s.b) {
		if c := s.b[s.i]; c >= 0x20 && c < 0x80 && c != '"' && c != '\\' {
			s.i++ // the common case first
			continue
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			if plain && !ascii && !utf8.Valid(raw) {
				plain = false
			}
			return raw, plain, nil
		case c == '\\':
			plain = false
			s.i++
			if s.i >= len(s.b) {
				return nil, false, s.fail("escape")
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for range 4 {
					if s.i >= len(s.b) || !isHex(s.b[s.i]) {
						return nil, false, s.fail("hexadecimal digit")
					}
					s.i++
				}
			default:
				return nil, false, s.fail("escape")
			}
		case c < 0x20:
			return nil, false, s.fail("string character")
		default:
			ascii = false
			s.i++
		}
	}
	return nil, false, s.fail(`closing '"'`)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// unquote turns the raw bytes str returned into a string, as encoding/json
// does (escapes resolved, invalid UTF-8 replaced).
func unquote(raw []byte, plain bool) string {
	if plain {
		return string(raw)
	}
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var out string
	_ = json.Unmarshal(q, &out) // raw was validated by str
	return out
}

// number reads a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	s.space()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && '1' <= s.b[s.i] && s.b[s.i] <= '9':
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	default:
		return nil, s.fail("digit")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return nil, s.fail("digit after '.'")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return nil, s.fail("exponent digit")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	return s.b[start:s.i], nil
}

// uint reads a plain unsigned integer in one pass (the common case of a
// memstats counter). ok is false, with nothing read, when the number has a
// fraction or exponent, a leading zero before more digits, or overflows:
// number and strconv then take it.
func (s *scanner) uint() (n uint64, ok bool) {
	i := s.i
	if i+1 < len(s.b) && s.b[i] == '0' && isDigit(s.b[i+1]) {
		return 0, false
	}
	// Up to 19 digits cannot overflow: no check per digit.
	end := min(len(s.b), i+19)
	for ; i < end && isDigit(s.b[i]); i++ {
		n = n*10 + uint64(s.b[i]-'0')
	}
	if i < len(s.b) && isDigit(s.b[i]) {
		// A 20th digit: the last one that can fit.
		d := uint64(s.b[i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
		i++
		if i < len(s.b) && isDigit(s.b[i]) {
			return 0, false
		}
	}
	if i < len(s.b) && (s.b[i] == '.' || s.b[i] == 'e' || s.b[i] == 'E') {
		return 0, false
	}
	s.i = i
	return n, true
}

// literal reads true, false or null.
func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail(word)
	}
	s.i += len(word)
	return nil
}

// maxNesting bounds how deep skip follows arrays and objects, as
// encoding/json does (10000), so hostile input cannot exhaust the stack.
const maxNesting = 10000

// open reads the c that opens an array or object at depth, and its close
// right away when it is empty.
func (s *scanner) open(depth int, c, end byte) (empty bool, err error) {
	if depth >= maxNesting {
		return false, fmt.Errorf("%w: nested deeper than %d", errSyntax, maxNesting)
	}
	if s.peek() != c {
		return false, s.fail(fmt.Sprintf("%q", c))
	}
	s.i++
	if s.peek() == end {
		s.i++
		return true, nil
	}
	return false, nil
}

// more reads what follows a member or element: true after a ',', false
// after the closing end.
func (s *scanner) more(end byte) (bool, error) {
	switch s.peek() {
	case ',':
		s.i++
		return true, nil
	case end:
		s.i++
		return false, nil
	}
	return false, s.fail(fmt.Sprintf("',' or %q", end))
}

// skip reads and validates one value of any kind. It is the bulk of a
// /debug/vars answer (BySize, cmdline, the service's own variables), so it
// loops by itself instead of calling back through object and array.
func (s *scanner) skip(depth int) error {
	switch s.peek() {
	case '{':
		empty, err := s.open(depth, '{', '}')
		for more := !empty; err == nil && more; more, err = s.more('}') {
			if _, _, err = s.str(); err != nil {
				break
			}
			if err = s.consume(':', "':'"); err != nil {
				break
			}
			if err = s.skip(depth + 1); err != nil {
				break
			}
		}
		return err
	case '[':
		empty, err := s.open(depth, '[', ']')
		for more := !empty; err == nil && more; more, err = s.more(']') {
			if err = s.skip(depth + 1); err != nil {
				break
			}
		}
		return err
	case '"':
		_, _, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, err := s.number()
		return err
	}
}

// object reads an object, calling member for each key with the scanner at
// the member's value; member must read the value.
func (s *scanner) object(depth int, member func(key []byte, plain bool) error) error {
	empty, err := s.open(depth, '{', '}')
	for more := !empty; err == nil && more; more, err = s.more('}') {
		var key []byte
		var plain bool
		if key, plain, err = s.str(); err != nil {
			break
		}
		if err = s.consume(':', "':'"); err != nil {
			break
		}
		if err = member(key, plain); err != nil {
			break
		}
	}
	return err
}

// array reads an array, calling elem with each element's index and the
// scanner at the element; elem must read it.
func (s *scanner) array(depth int, elem func(i int) error) error {
	empty, err := s.open(depth, '[', ']')
	n := 0
	for more := !empty; err == nil && more; more, err = s.more(']') {
		if err = elem(n); err != nil {
			break
		}
		n++
	}
	return err
}
