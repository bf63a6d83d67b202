import KestrelAugment
import Testing

@Suite struct SmokeTests {
    @Test func placeholder() {}
}
