extension CivilDate {
    /// The same day `months` calendar months later (earlier when negative), moved back to the
    /// month's last day when it has fewer days (31 May minus 3 months is 28 or 29 February).
    ///
    /// Like ``adding(days:)``, it never fails, even past the year 9999.
    public func adding(months: Int) -> CivilDate {
        let index = year * 12 + (month - 1) + months
        let newYear = index >= 0 ? index / 12 : (index - 11) / 12
        let newMonth = index - newYear * 12 + 1
        let newDay = Swift.min(day, CivilDate.daysInMonth(year: newYear, month: newMonth))
        // days_from_civil (H. Hinnant), as in CivilDate.daysSinceEpoch.
        let y = newMonth <= 2 ? newYear - 1 : newYear
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = newMonth > 2 ? newMonth - 3 : newMonth + 9
        let doy = (153 * mp + 2) / 5 + newDay - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return CivilDate(daysSinceEpoch: era * 146_097 + doe - 719_468)
    }
}
